"""The dossier through the real server over HTTP: the PDF download with a READER token, the SDK, and the
CLI writing the file an auditor keeps."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

from conftest import Tokens
from provgraph.client import Client
from provgraph.config import Settings
from provgraph.demo import load_demo

from .conftest import ApiServer

ASSISTANT = "modelVersion:support-assistant:1"


def test_a_reader_downloads_the_pdf_by_url_sdk_and_cli(
    api_server: ApiServer, settings: Settings, tokens: Tokens, tmp_path: Path
) -> None:
    asyncio.run(load_demo(settings))
    url = f"{api_server.base}/v1/export/dossier/{ASSISTANT}?format=pdf&asOf=2026-07-01T00:00:00Z"
    response = httpx.get(url, headers=tokens.header("reader"), timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="modelVersion-support-assistant-1.dossier.pdf"'
    )
    assert response.content.startswith(b"%PDF-") and response.content.rstrip().endswith(b"%%EOF")
    assert 0 < float(response.headers["x-provgraph-completeness"]) < 1
    assert httpx.get(url, timeout=30).status_code == 401  # and only with a token

    with Client(api_server.url, token=tokens.reader, timeout=60) as pg:
        html = pg.export("dossier", ASSISTANT)
    assert (html.filename, html.media_type) == ("modelVersion-support-assistant-1.dossier.html", "text/html")
    assert "Impact of excluding forum-scrape" in html.text

    out = tmp_path / "assistant.pdf"
    env = {**os.environ, "PROVGRAPH_URL": api_server.url, "PROVGRAPH_TOKEN": tokens.reader}
    command = [sys.executable, "-m", "provgraph", "export", "dossier", ASSISTANT, "--format", "pdf"]
    done = subprocess.run(
        [*command, "--as-of", "2026-07-01T00:00:00Z", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} (application/pdf" in done.stdout + done.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(out), "-"], capture_output=True, text=True, check=True
    )
    assert "as of 2026-07-01 00:00:00 UTC" in page.stdout

    refused = subprocess.run(
        [sys.executable, "-m", "provgraph", "export", "dossier", ASSISTANT, "--format", "docx", "-o", str(tmp_path / "x")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "INVALID_ARGUMENT" in refused.stderr and "html, pdf" in refused.stderr
    assert not (tmp_path / "x").exists()
