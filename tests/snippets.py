"""The code snippets the documentation shows, read from the files they are shown in, so that tests run
them as written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MLFLOW_PAGE = ROOT / "docs" / "sdk-vs-mlflow.md"
SDK_GUIDE = ROOT / "docs" / "sdk.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.S | re.M)


@dataclass(frozen=True)
class CodeBlock:
    """A python block of a page: the line its code starts on, the code, and what it prints — the `text`
    block that follows it with only prose between (`prints:`), if there is one."""

    line: int
    code: str
    prints: str | None


def python_blocks(text: str) -> list[CodeBlock]:
    """The python blocks of a Markdown page, in order, each with the output block the page gives for it."""
    fences = list(_FENCE.finditer(text))
    blocks = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        following = fences[i + 1] if i + 1 < len(fences) else None
        between = text[fence.end() : following.start()] if following else ""
        prints = None
        if following is not None and following.group(1) == "text" and between.strip() in ("", "prints:"):
            prints = following.group(2)
        line = text.count("\n", 0, fence.start(2)) + 1
        blocks.append(CodeBlock(line, fence.group(2), prints))
    return blocks


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
