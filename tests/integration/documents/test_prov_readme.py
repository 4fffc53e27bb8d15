"""The README's PROV examples against the demo story: every export it shows answers, and its SPARQL finds
the support assistant's sources in the Turtle."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shlex
from pathlib import Path

from neo4j import Driver
from starlette.testclient import TestClient

from conftest import Tokens, sender
from helpers import data
from provgraph.config import Settings
from provgraph.demo import load_demo
from snippets import README

OPTIONS = {"--format": "format", "--as-of": "asOf", "--known-at": "knownAt", "--answer": "answer"}
OPTIONS |= {"--direction": "direction", "--depth": "depth"}
SOURCES = """{ lineage(nodeId: "modelVersion:support-assistant:1", direction: UPSTREAM, types: ["Source"],
  first: 500) { nodes { ... on Source { id } } } }"""
NOW = "2099-01-01T00:00:00Z"  # the README pins `$NOW`; any time after the demo was loaded will do here


def section() -> str:
    return README.read_text().split("### W3C PROV", 1)[1].split("\n## ", 1)[0]


def block(text: str, language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", text, re.S)
    assert found, language
    return found.group(1)


def requests_in(commands: str) -> list[tuple[str, dict[str, str]]]:
    """Each `provgraph export prov ID [options]` and each export URL of the README's commands."""
    asked = []
    for line in commands.replace("\\\n", " ").splitlines():
        words = shlex.split(line.replace("$NOW", NOW), comments=True)
        if words[1:3] == ["export", "prov"]:
            subject, rest = words[3], words[4:]
            params = {OPTIONS[o]: v for o, v in zip(rest[::2], rest[1::2], strict=True) if o in OPTIONS}
            asked.append((subject, params))
        for url in (w for w in words if "/v1/export/prov/" in w):
            path, _, query = url.split("/v1/export/prov/", 1)[1].partition("?")
            asked.append((path, dict(p.split("=", 1) for p in query.split("&") if p)))
    return asked


def test_the_readme_prov_examples_run_on_the_demo(
    clean_graph: Driver, settings: Settings, client: TestClient, tokens: Tokens, tmp_path: Path
) -> None:
    asyncio.run(load_demo(settings))
    asked = requests_in(block(section(), "bash"))
    assert len(asked) == 5  # one per format, and a lineage
    for subject, params in asked:
        response = client.get(f"/v1/export/prov/{subject}", params=params, headers=tokens.header("reader"))
        assert response.status_code == 200, (subject, params, response.text)
    turtle = client.get(
        "/v1/export/prov/modelVersion:support-assistant:1",
        params={"format": "turtle"},
        headers=tokens.header("reader"),
    )
    (tmp_path / "modelVersion-support-assistant-1.prov.ttl").write_bytes(turtle.content)
    printed = io.StringIO()
    here = Path.cwd()
    try:
        os.chdir(tmp_path)
        with contextlib.redirect_stdout(printed):
            exec(block(section(), "python"), {})  # noqa: S102 - the README's own example, run as written
    finally:
        os.chdir(here)
    sources = [line.split()[0] for line in printed.getvalue().splitlines()]
    upstream = data(sender(client)(SOURCES))["lineage"]["nodes"]
    assert sources == sorted("urn:provgraph:" + n["id"] for n in upstream) and len(sources) > 1
