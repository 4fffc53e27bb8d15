"""docs/sdk.md runs as written: its python blocks, in order and in one namespace, against the real service
over HTTP (with the demo story loaded, as `make run` serves it), each printing what the page says it prints."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path

import pytest

from conftest import Tokens
from provgraph.client import Client
from provgraph.config import Settings
from provgraph.demo import load_demo
from snippets import SDK_GUIDE, python_blocks

from .conftest import ApiServer


def test_the_sdk_guide_runs_as_written_and_prints_what_it_says(
    api_server: ApiServer,
    settings: Settings,
    tokens: Tokens,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asyncio.run(load_demo(settings))
    monkeypatch.setenv("PROVGRAPH_URL", api_server.url)
    monkeypatch.setenv("PROVGRAPH_TOKEN", tokens.writer)
    monkeypatch.delenv("PROVGRAPH_SPOOL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # the guide's spool and exported files land here
    blocks = python_blocks(SDK_GUIDE.read_text())
    assert len(blocks) >= 10 and sum(b.prints is not None for b in blocks) >= 10

    namespace: dict[str, object] = {"__name__": "__sdk_guide__"}
    for block in blocks:
        # Padded so that a traceback names the guide's own line numbers.
        code = compile("\n" * (block.line - 1) + block.code, str(SDK_GUIDE), "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)  # noqa: S102 - the guide's own example, run as written
        if block.prints is not None:
            assert printed.getvalue() == block.prints, f"docs/sdk.md line {block.line} printed otherwise"

    # What the guide claims to have recorded, read back independently.
    with Client(api_server.url, token=tokens.reader) as pg:
        impact = pg.impact_report("crm-export")
        assert [m.model_version.id for m in impact.model_versions] == [
            "modelVersion:churn:1",
            "modelVersion:churn:2",
        ]
        assert impact.inferences == 1 + 1 + 1000 + 5  # each key once: repeats and replays counted once
        assert pg.get_run("eval-churn-2026-11").metrics == {"precision": 0.71, "recall": 0.64}
    assert (tmp_path / "modelVersion-churn-1.prov.provn").read_text().startswith("document")
    assert not list((tmp_path / "provgraph-spool").glob("*.ndjson"))  # the spool was replayed and emptied
