"""`PROVGRAPH_LOG_FORMAT=json` on the real server: every line it writes is one JSON object, and each
request's line carries its id, operation, principal, status, duration and error code."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from conftest import Tokens
from provgraph.config import Settings

from .conftest import ApiServer


def test_the_server_logs_one_json_line_per_request_and_per_error(
    settings: Settings, clean_graph: object, tokens: Tokens, tmp_path: Path
) -> None:
    server = ApiServer(settings, tmp_path, {"PROVGRAPH_LOG_FORMAT": "json"})
    server.start()
    try:
        reader = tokens.header("reader")
        ok = httpx.post(
            server.url,
            json={"query": "query Listing { sources(first: 1) { nodes { id } } }"},
            headers={**reader, "x-request-id": "json-ok"},
        )
        assert ok.status_code == 200
        missing = httpx.post(
            server.url,
            json={"query": 'query Gone { source(id: "source:none") { id } }'},
            headers={**reader, "x-request-id": "json-missing"},
        )
        assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        refused = httpx.post(
            server.base + "/v1/inferences", json={"inferences": []}, headers={"x-request-id": "json-anon"}
        )
        assert refused.status_code == 401
        time.sleep(0.5)  # the access line is written as the response completes
    finally:
        server.stop()
    lines = [line for line in server.log_path.read_text().splitlines() if line.strip()]
    entries: list[dict[str, Any]] = [json.loads(line) for line in lines]  # every line parses, uvicorn's too
    assert any(e["logger"].startswith("uvicorn") for e in entries)
    access = {e["request_id"]: e for e in entries if e["logger"] == "provgraph.access"}
    assert set(access) >= {"json-ok", "json-missing", "json-anon"}
    assert access["json-ok"]["operation"] == "Listing"
    assert access["json-ok"]["principal"] == "test-reader"
    assert access["json-ok"]["status"] == 200 and access["json-ok"]["duration_ms"] > 0
    assert "code" not in access["json-ok"]
    assert (access["json-missing"]["code"], access["json-missing"]["root_fields"]) == (
        "NOT_FOUND",
        ["source"],
    )
    assert (access["json-anon"]["status"], access["json-anon"]["code"]) == (401, "UNAUTHENTICATED")
    assert access["json-anon"]["path"] == "/v1/inferences"
