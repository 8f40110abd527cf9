"""Building and checking the name-origin model, kept out of the core's runtime.

The pipeline only loads the shipped weights (``communities/nameorigin.py``). This package
trains them from Faker's name lists (``everyfamily.fakernames``, ``train``) and measures
them on names from an independent source (``evaluate``, mimesis: a development
dependency). Nothing here imports ``everyfamily.demo``, and nothing in the pipeline imports
this package.

    python -m everyfamily.communities.training            # rewrite the shipped files
    python -m everyfamily.communities.training --check    # exit 1 if they would change
"""
