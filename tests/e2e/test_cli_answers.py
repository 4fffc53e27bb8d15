"""The answering commands (`provgraph uses-source`, `trace`, `lineage`, `impact`, `deployed-at`, `history`,
`verify-audit`) run as a user runs them — a subprocess with PROVGRAPH_URL and PROVGRAPH_TOKEN — against the
real service over HTTP, on the scripted story (tests/story.py): tables, trees, JSON and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from conftest import WIPE, Tokens
from provgraph.client import Client
from provgraph.config import Settings
from story import Story, T, load_story

from .conftest import ApiServer, free_port


@dataclass(frozen=True)
class Served:
    server: ApiServer
    story: Story
    told: datetime  # a transaction time after the story was recorded
    reader: str


@pytest.fixture(scope="module")
def served(settings: Settings, tokens: Tokens, driver: Driver, tmp_path_factory: Any) -> Iterator[Served]:
    """The story, registered through a real server once for the module. The tests only add facts about
    names of their own, so they leave every other test's answers as the story has them."""
    driver.execute_query(WIPE, database_="neo4j")
    server = ApiServer(settings, tmp_path_factory.mktemp("cli-answers"))
    server.start()
    try:
        with httpx.Client(headers=tokens.header("admin"), timeout=30) as http:

            def send(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
                body: dict[str, Any] = http.post(
                    server.url, json={"query": query, "variables": variables}
                ).json()
                return body

            story = load_story(send)
        yield Served(server, story, datetime.now(UTC) + timedelta(seconds=1), tokens.reader)
    finally:
        server.stop()


def provgraph(
    served: Served, *args: str, token: str | None = None, url: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PROVGRAPH_URL": url or served.server.url,
        "PROVGRAPH_TOKEN": token or served.reader,
        "COLUMNS": "250",  # wide enough that no id is folded across lines of a table
    }
    return subprocess.run(
        [sys.executable, "-m", "provgraph", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def answer(served: Served, *args: str, code: int = 0) -> str:
    """Standard output of a command that must exit with `code` and print nothing on standard error."""
    done = provgraph(served, *args)
    assert (done.returncode, done.stderr) == (code, ""), done.stderr
    return done.stdout


def as_json(served: Served, *args: str, code: int = 0) -> Any:
    return json.loads(answer(served, *args, "--json", code=code))


def test_uses_source_lists_the_model_versions_with_why(served: Served) -> None:
    table = answer(served, "uses-source", "crawl")
    assert "Model versions using source:crawl" in table
    rows = {line.split("│")[1].strip(): line for line in table.splitlines() if "│ modelVersion:" in line}
    assert sorted(rows) == ["modelVersion:assistant:1", "modelVersion:base:1"]
    assert (
        "ARCHIVED" in rows["modelVersion:base:1"] and "endpoint:scoring 100%" in rows["modelVersion:base:1"]
    )
    assert (
        "PRODUCTION" in rows["modelVersion:assistant:1"]
        and "endpoint:chat" in rows["modelVersion:assistant:1"]
    )
    assert "source:crawl" in table and "─GENERATED_BY→ run:base-train" in table

    uses = as_json(served, "uses-source", "source:crawl", "--stage", "production")
    assert uses["total_count"] == 1
    (only,) = uses["items"]
    assert (only["model_version"]["id"], only["stage"]) == ("modelVersion:assistant:1", "PRODUCTION")
    assert only["deployments"][0]["started_at"] == T["T4"].isoformat()
    assert only["paths"][0]["node_ids"][-1] == "source:crawl"
    # On 1 March base:1 was the production version and assistant:1 not promoted yet.
    then = as_json(served, "uses-source", "crawl", "--stage", "PRODUCTION", "--as-of", T["T3"].isoformat())
    assert [i["model_version"]["id"] for i in then["items"]] == ["modelVersion:base:1"]


def test_uses_source_says_no_with_exit_code_1(served: Served) -> None:
    assert as_json(served, "uses-source", "unused", code=1)["items"] == []
    assert "model versions: 0" in answer(served, "uses-source", "unused", code=1)


def test_known_at_answers_as_the_service_knew_it_then(served: Served, tokens: Tokens) -> None:
    with Client(served.server.url, token=tokens.writer) as pg:
        pg.register_run("late-train", inputs=["datasetVersion:labels:v1"], started_at=T["T8"])
        pg.register_model("late")
        pg.register_model_version("late", "s3://models/late/1", trained_by="late-train", created_at=T["T8"])
    now = {i["model_version"]["id"] for i in as_json(served, "uses-source", "vendor")["items"]}
    then = {
        i["model_version"]["id"]
        for i in as_json(served, "uses-source", "vendor", "--known-at", served.told.isoformat())["items"]
    }
    assert now - then == {"modelVersion:late:1"}
    assert "modelVersion:base:2" in then


def test_trace_draws_an_inference_back_to_its_sources(served: Served) -> None:
    tree = answer(served, "trace", "inf-chat")
    assert tree.splitlines()[0].startswith("inference:inf-chat (at 2026-04-01 10:00:00 UTC)")
    for step in [
        f"SERVED_BY {served.story.deployments['chat-1']} (on endpoint:chat, 100%",
        "OF modelVersion:assistant:1 (PRODUCTION)",
        "FINE_TUNED_FROM modelVersion:base:1 (ARCHIVED)",
        "GENERATED_BY run:ft (FINETUNE, RUNNING)",
        "USED (TRAIN) datasetVersion:forum:v1",
        "FROM_SOURCE source:forum (crawl)",
        "USED (TEST) slice:corpus:v6:test",
        "FROM_SOURCE source:crawl (crawl)",
        "FROM_SOURCE source:vendor (vendor)",
    ]:
        assert step in tree, step
    assert "(shown above)" in tree  # corpus:v6 is reached through both slices and drawn once

    trace = as_json(served, "trace", "inference:inf-chat")
    assert trace["inference"]["model_version_id"] == "modelVersion:assistant:1"
    assert trace["deployment"]["id"] == served.story.deployments["chat-1"]
    assert [v["id"] for v in trace["fine_tune_chain"]] == ["modelVersion:base:1"]
    assert sorted(s["id"] for s in trace["sources"]) == ["source:crawl", "source:forum", "source:vendor"]
    assert {"type": "FINE_TUNED_FROM", "from_id": "modelVersion:assistant:1",
            "to_id": "modelVersion:base:1", "role": None} in trace["edges"]  # fmt: skip


def test_lineage_draws_the_graph_both_ways(served: Served) -> None:
    up = answer(served, "lineage", "modelVersion:base:1")
    assert up.splitlines()[0] == "modelVersion:base:1"
    assert "GENERATED_BY run:base-train (TRAIN, FINISHED)" in up
    assert "DERIVED_FROM datasetVersion:corpus:v1" in up and "FROM_SOURCE source:crawl (crawl)" in up

    down = as_json(served, "lineage", "source:forum", "--direction", "downstream", "--type", "ModelVersion")
    assert [n["id"] for n in down["nodes"]] == ["modelVersion:assistant:1"]
    shallow = as_json(served, "lineage", "modelVersion:base:1", "--depth", "1")
    assert shallow["is_partial"] is True
    assert "source:crawl" not in {n["id"] for n in shallow["nodes"]}

    both = answer(served, "lineage", "datasetVersion:forum:v1", "--direction", "both", "--depth", "2")
    assert "upstream" in both and "downstream" in both
    assert "FROM_SOURCE source:forum" in both and "USED (TRAIN) run:ft" in both


def test_impact_reports_what_a_source_reached(served: Served) -> None:
    report = answer(served, "impact", "forum")
    assert "source:forum (crawl)" in report
    row = next(line for line in report.splitlines() if "│ modelVersion:assistant:1" in line)
    assert "PRODUCTION" in row and "endpoint:chat 100%" in row
    assert "datasetVersion:forum:v1" in report and "run:ft" in report

    impact = as_json(served, "impact", "source:forum", "--as-of", T["T8"].isoformat())
    assert impact["as_of"] == T["T8"].isoformat()
    assert [v["id"] for v in impact["dataset_versions"]] == ["datasetVersion:forum:v1"]
    (affected,) = impact["model_versions"]
    assert (affected["model_version"]["id"], affected["inferences"]) == ("modelVersion:assistant:1", 1)
    assert impact["inferences"] == 1


def test_deployed_at_answers_for_a_moment(served: Served) -> None:
    between = (T["T6"] + timedelta(days=1)).isoformat()
    table = answer(served, "deployed-at", "scoring", "--at", between)
    assert f"│ {served.story.deployments['scoring-2']}" in table and "modelVersion:base:2" in table

    live = as_json(served, "deployed-at", "endpoint:scoring", "--at", T["T8"].isoformat())
    assert [(d["id"], d["model_version_id"], d["ended_at"]) for d in live] == [
        (served.story.deployments["scoring-3"], "modelVersion:base:1", None)
    ]
    assert as_json(served, "deployed-at", "scoring", "--at", T["T1"].isoformat(), code=1) == []


def test_history_of_a_version_and_of_a_model(served: Served) -> None:
    table = answer(served, "history", "modelVersion:base:1")
    assert "STAGING → PRODUCTION" in table and "approved by risk" in table and "champion" in table

    events = as_json(served, "history", "modelVersion:base:1")
    assert [(e["kind"], e["to_stage"]) for e in events if e["kind"] != "ALIAS_SET"][:4] == [
        ("REGISTERED", None),
        ("STAGE_CHANGED", "STAGING"),
        ("STAGE_CHANGED", "PRODUCTION"),
        ("STAGE_CHANGED", "ARCHIVED"),
    ]
    assert events[2]["at"] == T["T2"].isoformat() and events[2]["actor"] == "test-admin"
    log = as_json(served, "history", "model:base")
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    assert {e["model_version_id"] for e in log} == {"modelVersion:base:1", "modelVersion:base:2"}
    assert as_json(served, "history", "base") == log


def test_verify_audit_finds_an_altered_event_and_exits_1(served: Served, driver: Driver) -> None:
    table = answer(served, "verify-audit")
    assert "valid: every chain and ledger checked is intact" in table
    report = as_json(served, "verify-audit", "--model", "model:base")
    assert (report["valid"], report["models"], report["breaks"]) == (True, 1, [])

    altered = (
        "MATCH (e:RegistryEvent {modelId: 'model:base', seq: 3}) SET e.reason = $reason RETURN e.id AS id"
    )
    records, _, _ = driver.execute_query(
        "MATCH (e:RegistryEvent {modelId: 'model:base', seq: 3}) RETURN e.reason AS reason", database_="neo4j"
    )
    original = records[0]["reason"]
    driver.execute_query(altered, reason="approved by nobody", database_="neo4j")
    try:
        broken = as_json(served, "verify-audit", "--model", "base", code=1)
        assert broken["valid"] is False
        assert [(b["chain"], b["seq"]) for b in broken["breaks"]] == [("model:base", 3)]
        shown = answer(served, "verify-audit", code=1)
        assert "BROKEN" in shown and "model:base" in shown
    finally:
        driver.execute_query(altered, reason=original, database_="neo4j")
    assert as_json(served, "verify-audit")["valid"] is True


def test_a_checkpoint_is_verified_from_a_file(served: Served, tmp_path: Path) -> None:
    with Client(served.server.url, token=served.reader) as pg:
        checkpoint = pg.execute("{ auditCheckpoint }")["auditCheckpoint"]
    (tmp_path / "checkpoint.json").write_text(checkpoint)
    report = as_json(served, "verify-audit", "--against", str(tmp_path / "checkpoint.json"))
    assert report["valid"] is True and report["checkpoint_taken_at"] is not None
    from_stdin = provgraph(served, "verify-audit", "--against", "-", "--json", stdin=checkpoint)
    assert from_stdin.returncode == 0 and json.loads(from_stdin.stdout)["valid"] is True


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["trace", "inf-nobody"], 3, "error: inferenceId: inference 'inference:inf-nobody' does not exist (code NOT_FOUND)"),
        (["uses-source", "nobody"], 3, "(code NOT_FOUND)"),
        (["history", "modelVersion:base:9"], 3, "(code NOT_FOUND)"),
        (["deployed-at", "scoring", "--at", "yesterday"], 2, "error: --at is not an ISO-8601 time: 'yesterday' (code INVALID_ARGUMENT)"),
        (["impact", "crawl", "--as-of", "2026-03-01T09:00:00"], 2, "--as-of needs a zone"),
        (["lineage", "modelVersion:base:1", "--depth", "-1"], 2, "(code INVALID_ARGUMENT)"),
        (["history", "dataset:corpus"], 2, "(code INVALID_ARGUMENT)"),
        (["lineage", "modelVersion:base:1", "--direction", "sideways"], 2, "sideways"),
    ],
)  # fmt: skip
def test_errors_are_one_line_with_an_exit_code_by_class(
    served: Served, args: list[str], code: int, error: str
) -> None:
    done = provgraph(served, *args, "--json")
    assert done.returncode == code, done.stderr
    assert done.stdout == "" and error in done.stderr
    assert "Traceback" not in done.stderr


def test_a_wrong_token_exits_4_and_an_unreachable_service_5(served: Served) -> None:
    denied = provgraph(served, "trace", "inf-chat", token="not-a-token")
    assert denied.returncode == 4 and denied.stderr.strip().endswith("(code UNAUTHENTICATED)")
    nowhere = f"http://127.0.0.1:{free_port()}/graphql"
    down = provgraph(served, "verify-audit", url=nowhere)
    assert down.returncode == 5
    assert down.stderr.startswith(f"error: cannot reach {nowhere}") and "(code UNAVAILABLE)" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1


def test_options_override_the_environment(served: Served) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/graphql"
    done = provgraph(
        served,
        "deployed-at",
        "chat",
        "--url",
        served.server.url,
        "--token",
        served.reader,
        "--json",
        url=nowhere,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["model_version_id"] == "modelVersion:assistant:1"


def test_help_documents_the_exit_codes() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "provgraph", "uses-source", "--help"],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "3  not found (NOT_FOUND)" in shown and "PROVGRAPH_URL" in shown
