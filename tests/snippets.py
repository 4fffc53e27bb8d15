"""The code snippets the documentation shows, read from the files they are shown in, so that tests run
them as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MLFLOW_PAGE = ROOT / "docs" / "sdk-vs-mlflow.md"


def first_python_block(text: str) -> str:
    found = re.search(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert found is not None, "no python code block"
    return found.group(1)


def readme_pipeline() -> str:
    """The pipeline example of the README's SDK section."""
    return first_python_block(README.read_text().split("## The Python SDK", 1)[1])


def mlflow_pipeline() -> str:
    """The same pipeline written with MLflow 3 (docs/sdk-vs-mlflow.md)."""
    return first_python_block(MLFLOW_PAGE.read_text())


def code_lines(source: str) -> int:
    """Lines of code as the README counts them: not blank, not only a comment."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


def readme_dossier_commands() -> list[str]:
    """The shell lines of the README's dossier example (comments dropped, continuations joined)."""
    section = README.read_text().split("### Technical documentation (dossier)", 1)[1]
    found = re.search(r"^```bash\n(.*?)^```", section, re.S | re.M)
    assert found is not None, "no bash block in the dossier section"
    joined = found.group(1).replace("\\\n", " ")
    return [line.split("  #", 1)[0].strip() for line in joined.splitlines() if line.strip()]
