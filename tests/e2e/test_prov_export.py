"""PROV exports from the real service over HTTP: the SDK's `export`, the CLI's `provgraph export prov`, and
the same bytes from another process (the server's) as from this one (the in-process app)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prov.model import ProvDocument
from rdflib import URIRef
from starlette.testclient import TestClient

from conftest import Tokens
from prov_docs import FORMATS, PG, elements, read
from provgraph.client import Client, InvalidArgumentError, NotFoundError
from story import T, load_story

from .conftest import ApiServer

MV = "modelVersion:assistant:1"


@pytest.fixture
def told(api_server: ApiServer, tokens: Tokens) -> datetime:
    """The story, registered through the server; returns a transaction time after it."""
    with httpx.Client(headers=tokens.header("admin"), timeout=30) as http:

        def send(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            body: dict[str, Any] = http.post(
                api_server.url, json={"query": query, "variables": variables}
            ).json()
            return body

        load_story(send)
    return datetime.now(UTC) + timedelta(seconds=1)


def test_the_sdk_exports_what_the_app_makes_byte_for_byte(
    api_server: ApiServer, tokens: Tokens, told: datetime, client: TestClient
) -> None:
    with Client(api_server.url, token=tokens.reader) as pg:
        for fmt in FORMATS:
            exported = pg.export("prov", MV, format=fmt, as_of=T["T8"], known_at=told)
            assert exported.filename.startswith("modelVersion-assistant-1.prov.")
            read(fmt, exported.content)  # each reads back with its reader
            # another process (this one, with its own hash seed) makes the same bytes from the same graph
            here = client.get(
                f"/v1/export/prov/{MV}",
                params={"format": fmt, "asOf": T["T8"].isoformat(), "knownAt": told.isoformat()},
                headers=tokens.header("reader"),
            )
            assert here.content == exported.content, fmt
        turtle = read("turtle", pg.export("prov", MV, format="turtle", as_of=T["T8"], known_at=told).content)
        assert (URIRef(PG + MV), None, None) in turtle
        with pytest.raises(NotFoundError):
            pg.export("prov", "modelVersion:nobody:1")
        with pytest.raises(InvalidArgumentError):
            pg.export("prov", MV, format="xml")


def test_the_cli_writes_a_prov_file(
    api_server: ApiServer, tokens: Tokens, told: datetime, tmp_path: Path
) -> None:
    target = tmp_path / "trace.provn"
    env = {**os.environ, "PROVGRAPH_URL": api_server.url, "PROVGRAPH_TOKEN": tokens.reader}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "provgraph", "export", "prov", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = cli("inference:inf-chat", "--format", "provn", "-o", str(target))
    assert done.returncode == 0, done.stderr
    document = ProvDocument.deserialize(content=target.read_bytes(), format="provn")
    assert {"inference:inf-chat", "modelVersion:assistant:1", "source:forum"} <= elements(document).keys()
    refused = cli(MV, "--format", "xml", "-o", str(tmp_path / "never"))
    assert refused.returncode == 1 and "INVALID_ARGUMENT" in refused.stderr
    assert not (tmp_path / "never").exists()
