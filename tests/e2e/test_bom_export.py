"""The AI-BOMs of the demo story from a real server over HTTP: the download URL, the SDK and the CLI, each
document checked by its official validator."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

import spdx3_official
from conftest import ROOT, Tokens
from provgraph.client import Client, InvalidArgumentError
from provgraph.config import Settings
from provgraph.demo import load_demo

from .conftest import ApiServer

ASSISTANT = "modelVersion:support-assistant:1"
AS_OF = datetime(2026, 7, 1, tzinfo=UTC)  # after the forum scrape was excluded (15 June)


@pytest.fixture
def demo(api_server: ApiServer, settings: Settings) -> datetime:
    """The demo story in the server's database; the time after it was recorded."""
    asyncio.run(load_demo(settings))
    return datetime.now(UTC)


def test_the_sdk_the_download_url_and_the_cli_give_valid_boms(
    api_server: ApiServer, tokens: Tokens, demo: datetime, tmp_path: Path
) -> None:
    # One server and one demo load for the three ways in: a server start is the slow part here.
    with Client(api_server.url, token=tokens.reader) as pg:
        document = pg.export("cyclonedx", ASSISTANT, as_of=AS_OF, known_at=demo)
        with pytest.raises(InvalidArgumentError) as refused:
            pg.export("cyclonedx", "source:forum-scrape")
        assert refused.value.field == "id"
    assert document.filename == "modelVersion-support-assistant-1.cyclonedx.cdx.json"
    assert document.media_type == "application/vnd.cyclonedx+json"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(document.text) is None
    bom = json.loads(document.content)
    score = next(p["value"] for p in bom["metadata"]["properties"] if p["name"] == "provgraph:completeness")
    assert document.completeness == pytest.approx(float(score))
    # the excluded forum scrape is flagged on the model and on the source
    assert ("provgraph:dependsOnExcludedSource", "source:forum-scrape") in {
        (p["name"], p["value"]) for p in bom["metadata"]["component"]["properties"]
    }
    downloaded = httpx.get(
        f"{api_server.base}/v1/export/cyclonedx/{ASSISTANT}",
        params={"asOf": AS_OF.isoformat(), "knownAt": demo.isoformat()},
        headers=tokens.header("reader"),
    )
    assert downloaded.status_code == 200 and downloaded.content == document.content

    # the CLI, once: an SPDX BOM written to a file
    target = tmp_path / "assistant.spdx3.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "provgraph",
            "export",
            "spdx",
            ASSISTANT,
            "--as-of",
            AS_OF.isoformat(),
            "-o",
            str(target),
        ],
        env={**os.environ, "PROVGRAPH_URL": api_server.url, "PROVGRAPH_TOKEN": tokens.reader},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "of recommended fields" in done.stderr + done.stdout
    state = Path(os.environ.get("PROVGRAPH_STATE_DIR", ROOT / ".provgraph"))
    files = spdx3_official.official_files(spdx3_official.fetch(state / "spdx3"))
    assert spdx3_official.validate(target.read_text(), files) == []
    graph = json.loads(target.read_text())["@graph"]
    reviews = [o for o in graph if o["type"] == "Annotation" and o["annotationType"] == "review"]
    assert [o["subject"].rsplit("/", 1)[1] for o in reviews] == ["source:forum-scrape"]
