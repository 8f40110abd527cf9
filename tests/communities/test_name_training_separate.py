"""The name model's trainer is out of the demo's reach and out of the core's runtime (issue
19): training never imports the demo, and running the pipeline never imports training."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def test_training_does_not_import_the_demo() -> None:
    loaded = _modules_after(
        "import everyfamily.communities.training.train\n"
        "import everyfamily.communities.training.evaluate\n"
        "everyfamily.communities.training.evaluate.evaluate()"
    )
    assert "everyfamily.communities.training.evaluate" in loaded
    assert not {m for m in loaded if m.startswith("everyfamily.demo")}


def test_the_pipeline_does_not_import_training() -> None:
    loaded = _modules_after("import everyfamily.pipeline, everyfamily.communities.stage")
    assert "everyfamily.communities.nameorigin" in loaded
    assert not {m for m in loaded if m.startswith("everyfamily.communities.training")}
