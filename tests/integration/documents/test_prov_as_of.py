"""A PROV document as of a time shows what held then: an exclusion, a deployment's end or a run's end that
came later is not in it, and is once the time asked about is after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prov.model import ProvDocument, ProvRecord
from starlette.testclient import TestClient

from conftest import GraphQL, Tokens
from helpers import data
from prov_docs import attr, pg_id, read
from story import T, load_story

EXCLUDED_AT = datetime(2026, 6, 20, tzinfo=UTC)


def document(client: TestClient, tokens: Tokens, subject: str, at: datetime, **params: str) -> ProvDocument:
    response = client.get(
        f"/v1/export/prov/{subject}",
        params={"format": "json", "asOf": at.isoformat(), **params},
        headers=tokens.header("reader"),
    )
    assert response.status_code == 200, response.text
    found = read("json", response.content)
    assert isinstance(found, ProvDocument)
    return found


def node(doc: ProvDocument, node_id: str) -> ProvRecord:
    (record,) = [r for r in doc.get_records() if r.is_element() and pg_id(r.identifier) == node_id]
    return record


def test_later_ends_and_exclusions_are_not_in_an_earlier_document(
    client: TestClient, tokens: Tokens, gql: GraphQL
) -> None:
    story = load_story(gql)
    exclusion = f'{{sourceId: "source:forum", reason: "terms changed", at: "{EXCLUDED_AT.isoformat()}"}}'
    data(gql(f"mutation {{ excludeSource(input: {exclusion}) {{ created }} }}"))

    after, before = T["T8"], EXCLUDED_AT - timedelta(days=1)
    forum_then = node(document(client, tokens, "modelVersion:assistant:1", before), "source:forum")
    forum_now = node(document(client, tokens, "modelVersion:assistant:1", after), "source:forum")
    assert attr(forum_then, "pgv:excludedAt") == []
    assert attr(forum_now, "pgv:excludedAt") == [EXCLUDED_AT]
    assert attr(forum_now, "pgv:exclusionReason") == ["terms changed"]

    # base:1 served on scoring from T2 to T6
    first = story.deployments["scoring-1"]
    live = node(document(client, tokens, "modelVersion:base:1", T["T3"]), first)
    ended = node(document(client, tokens, "modelVersion:base:1", after), first)
    assert attr(live, "prov:endTime") == [] and attr(live, "pgv:endReason") == []
    assert attr(ended, "prov:endTime") == [T["T6"]]

    # base-train ran from T0 + 2 days to T0 + 3 days
    running_at = T["T0"] + timedelta(days=2, hours=12)
    lineage = {"answer": "lineage"}
    running = node(document(client, tokens, "run:base-train", running_at, **lineage), "run:base-train")
    done = node(document(client, tokens, "run:base-train", after, **lineage), "run:base-train")
    assert (attr(running, "prov:endTime"), attr(running, "pgv:status")) == ([], ["RUNNING"])
    assert attr(done, "pgv:status") == ["FINISHED"]
    assert attr(done, "prov:endTime") == [T["T0"] + timedelta(days=3)]
