"""The README's SDK example and its MLflow equivalent, as text: the line counts the README states are the
snippets' own, and both snippets are formatted as the count assumes. (tests/e2e/test_sdk_run.py runs them.)"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from snippets import README, code_lines, mlflow_pipeline, readme_pipeline


def test_the_readme_states_the_line_counts_of_both_pipelines() -> None:
    stated = re.search(
        r"The pipeline above is \*\*(\d+) lines\*\* with provgraph; .*? is \*\*(\d+) lines\*\*",
        README.read_text(),
        re.S,
    )
    assert stated is not None
    assert (int(stated.group(1)), int(stated.group(2))) == (
        code_lines(readme_pipeline()),
        code_lines(mlflow_pipeline()),
    )


@pytest.mark.parametrize("snippet", [readme_pipeline, mlflow_pipeline])
def test_the_snippets_are_counted_as_ruff_formats_them(snippet: Callable[[], str]) -> None:
    source = snippet()
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--line-length", "110", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert formatted == source
