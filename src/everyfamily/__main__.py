from everyfamily.cli import entrypoint

entrypoint()
