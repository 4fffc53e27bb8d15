"""Races: rules that must hold when requests arrive at the same moment, over real HTTP (and, for tokens,
also through the service layer with two transactions in flight at once).

- Two admin tokens revoking each other at once: one of them stays active.
- Deploys racing for an endpoint's traffic: never more than 100% at any instant.
- Identical stage changes (and identical "deploy now" requests) at once: one fact, recorded once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from neo4j import Driver

import builders as b
from conftest import Tokens
from provgraph.admin import services_for
from provgraph.config import Settings
from provgraph.domain.auth import Role
from provgraph.domain.errors import FailedPrecondition
from provgraph.domain.records import Caller

from .conftest import ApiServer

TRIALS = 10
RACERS = 8


def at_once(count: int, work: Callable[[int, httpx.Client], Any], url: str, token: str) -> list[Any]:
    """Run `work(i, client)` in `count` threads released together (each with its own connected client);
    returns their results in order (an exception is returned, not raised)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def racer(i: int) -> None:
        with httpx.Client(headers={"authorization": f"Bearer {token}"}, timeout=60) as client:
            client.get(url.replace("/graphql", "/healthz"))  # connect before the start signal
            barrier.wait(30)
            try:
                results[i] = work(i, client)
            except BaseException as exc:  # reported by the caller with its index
                results[i] = exc

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def post(
    client: httpx.Client, url: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = client.post(url, json={"query": query, "variables": variables or {}})
    assert response.status_code < 500, response.text
    body: dict[str, Any] = response.json()
    return body


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body
    result: dict[str, Any] = body["data"]
    return result


def outcome(body: dict[str, Any]) -> tuple[str, str | None]:
    """('OK', None) or (code, field) of a response's single error."""
    if not body.get("errors"):
        return ("OK", None)
    assert len(body["errors"]) == 1, body
    extensions = body["errors"][0]["extensions"]
    return (extensions["code"], extensions.get("field"))


# ---------------------------------------------------------------------------------------------------------
# Admin tokens revoking each other


@pytest.fixture
def no_other_tokens(driver: Driver, tokens: Tokens) -> Iterator[None]:
    """For the length of a test, the database holds no token but the ones the test creates; the session's
    tokens are put back afterwards exactly as they were (same ids, hashes and stamps)."""
    saved, _, _ = driver.execute_query("MATCH (t:ApiToken) RETURN properties(t) AS p", database_="neo4j")
    kept = [dict(r["p"]) for r in saved]
    assert {p["name"] for p in kept} >= {"test-reader", "test-writer", "test-admin"}
    driver.execute_query("MATCH (t:ApiToken) DETACH DELETE t", database_="neo4j")
    try:
        yield
    finally:
        driver.execute_query("MATCH (t:ApiToken) DETACH DELETE t", database_="neo4j")
        driver.execute_query(
            "UNWIND $tokens AS p CREATE (t:ApiToken) SET t = p", {"tokens": kept}, database_="neo4j"
        )


def active_admins(driver: Driver) -> list[str]:
    records, _, _ = driver.execute_query(
        "MATCH (t:ApiToken {role: 'ADMIN'}) WHERE t.revokedAt IS NULL RETURN t.id AS id", database_="neo4j"
    )
    return [r["id"] for r in records]


def test_two_admins_revoking_each_other_through_the_service_leave_one(
    settings: Settings, driver: Driver, no_other_tokens: None
) -> None:
    async def trial(services: Any, n: int) -> list[Any]:
        a = await services.tokens.create(f"admin-a-{n}", Role.ADMIN, Caller("setup"))
        b = await services.tokens.create(f"admin-b-{n}", Role.ADMIN, Caller("setup"))
        return list(
            await asyncio.gather(
                services.tokens.revoke(b.token.id, Caller(a.token.name)),
                services.tokens.revoke(a.token.id, Caller(b.token.name)),
                return_exceptions=True,
            )
        )

    async def trials() -> list[list[Any]]:
        found = []
        async with services_for(settings) as services:
            for n in range(TRIALS):
                driver.execute_query("MATCH (t:ApiToken) DETACH DELETE t", database_="neo4j")
                results = await trial(services, n)
                found.append([*results, active_admins(driver)])
        return found

    for n, (first, second, active) in enumerate(asyncio.run(trials())):
        failures = [r for r in (first, second) if isinstance(r, BaseException)]
        assert len(failures) == 1, (n, first, second)
        assert isinstance(failures[0], FailedPrecondition) and failures[0].field == "id", (n, failures[0])
        assert len(active) == 1, (n, active)


def test_two_admins_revoking_each_other_over_http_leave_one(
    api_server: ApiServer, settings: Settings, driver: Driver, no_other_tokens: None
) -> None:
    create = (
        "mutation($n: String!) { createApiToken(input: {name: $n, role: ADMIN}) { secret token { id } } }"
    )
    revoke = "mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt revokedBy } }"

    async def first_admin(n: int) -> str:
        async with services_for(settings) as services:
            return str((await services.tokens.create(f"first-{n}", Role.ADMIN, Caller("setup"))).secret)

    for n in range(TRIALS):
        driver.execute_query("MATCH (t:ApiToken) DETACH DELETE t", database_="neo4j")
        founder = asyncio.run(first_admin(n))
        with httpx.Client(headers={"authorization": f"Bearer {founder}"}, timeout=60) as client:
            a = ok(post(client, api_server.url, create, {"n": f"admin-a-{n}"}))["createApiToken"]
            b = ok(post(client, api_server.url, create, {"n": f"admin-b-{n}"}))["createApiToken"]
            # The founder steps down (allowed: two other admins remain), so the pair are the only admins.
            founder_id = next(
                t
                for t in ok(post(client, api_server.url, "{ apiTokens { id name } }"))["apiTokens"]
                if t["name"] == f"first-{n}"
            )["id"]
            ok(post(client, api_server.url, revoke, {"id": founder_id}))
        assert sorted(active_admins(driver)) == sorted([a["token"]["id"], b["token"]["id"]])
        pair = [(a["secret"], b["token"]["id"]), (b["secret"], a["token"]["id"])]
        barrier = threading.Barrier(2)
        answers: list[Any] = [None, None]

        def racer(
            i: int,
            pair: list[tuple[str, str]] = pair,
            answers: list[Any] = answers,
            barrier: threading.Barrier = barrier,
        ) -> None:
            secret, victim = pair[i]
            with httpx.Client(headers={"authorization": f"Bearer {secret}"}, timeout=60) as client:
                client.get(api_server.base + "/healthz")
                barrier.wait(30)
                response = client.post(api_server.url, json={"query": revoke, "variables": {"id": victim}})
                answers[i] = (response.status_code, response.json())

        threads = [threading.Thread(target=racer, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        outcomes = [outcome(body) for _, body in answers]
        assert sorted(o[0] for o in outcomes).count("OK") == 1, (n, answers)
        # The loser was refused by the rule, or — if the winner's revocation landed before the loser's
        # request was authenticated — as a revoked token.
        loser = next(o for o in outcomes if o[0] != "OK")
        assert loser in {("FAILED_PRECONDITION", "id"), ("UNAUTHENTICATED", None)}, (n, answers)
        assert len(active_admins(driver)) == 1, n


# ---------------------------------------------------------------------------------------------------------
# Deploys racing for traffic

DEPLOY = "mutation($i: DeployInput!) { deploy(input: $i) { created deployment { id modelVersionId trafficShare } } }"
DEPLOYED_AT = "query($ep: String!, $at: DateTime!) { deployedAt(endpoint: $ep, at: $at) { id modelVersionId trafficShare } }"


@pytest.fixture
def versions(api_server: ApiServer, tokens: Tokens) -> ApiServer:
    with httpx.Client(headers=tokens.header("writer"), timeout=60) as client:
        ok(post(client, api_server.url, 'mutation { registerModel(input: {name: "m"}) { created } }'))
        for n in range(1, RACERS + 1):
            ok(
                post(
                    client,
                    api_server.url,
                    """mutation($a: String!) { registerModelVersion(input: {model: "m", artifactUri: $a,
                         createdAt: "2026-01-01T00:00:00Z"}) { created } }""",
                    {"a": f"s3://m/{n}"},
                )
            )
    return api_server


def register_endpoint(server: ApiServer, token: str, name: str) -> None:
    with httpx.Client(headers={"authorization": f"Bearer {token}"}, timeout=60) as client:
        ok(
            post(
                client,
                server.url,
                'mutation($n: String!) { registerEndpoint(input: {name: $n, environment: "prod"}) { created } }',
                {"n": name},
            )
        )


def live_shares(server: ApiServer, token: str, endpoint: str, at: datetime) -> list[tuple[str, float]]:
    with httpx.Client(headers={"authorization": f"Bearer {token}"}, timeout=60) as client:
        found = ok(post(client, server.url, DEPLOYED_AT, {"ep": endpoint, "at": at.isoformat()}))[
            "deployedAt"
        ]
    return sorted((d["modelVersionId"], d["trafficShare"]) for d in found)


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_deploys_never_overfill_an_endpoint(
    versions: ApiServer, tokens: Tokens, trial: int
) -> None:
    endpoint = f"ep-{trial}"
    register_endpoint(versions, tokens.writer, endpoint)
    start = datetime(2026, 3, 1 + trial, tzinfo=UTC)

    def deploy(i: int, client: httpx.Client) -> dict[str, Any]:
        spec = {
            "endpoint": endpoint,
            "modelVersionId": f"modelVersion:m:{i + 1}",
            "startedAt": start.isoformat(),
            "trafficShare": 0.2,
        }
        return post(client, versions.url, DEPLOY, {"i": spec})

    results = at_once(RACERS, deploy, versions.url, tokens.writer)
    assert not [r for r in results if isinstance(r, BaseException)], results
    outcomes = [outcome(r) for r in results]
    accepted = [r["data"]["deploy"]["deployment"]["modelVersionId"] for r in results if not r.get("errors")]
    assert len(accepted) <= 5, outcomes
    # Every refusal is the traffic rule, so none was refused while there was still room: exactly five fit.
    assert {o for o in outcomes if o[0] != "OK"} == {("FAILED_PRECONDITION", "trafficShare")}, outcomes
    assert len(accepted) == 5, outcomes
    for moment in (start, start + timedelta(days=30)):
        live = live_shares(versions, tokens.reader, endpoint, moment)
        assert sum(share for _, share in live) <= 1 + 1e-9
        assert sorted(version for version, _ in live) == sorted(accepted)


def test_concurrent_backfilled_intervals_never_overfill_an_endpoint(
    versions: ApiServer, tokens: Tokens
) -> None:
    """Closed intervals of half the traffic, each overlapping its neighbours, all sent at once: whichever
    land, no instant serves more than 100%."""
    register_endpoint(versions, tokens.writer, "ep-backfill")
    base = datetime(2026, 3, 1, tzinfo=UTC)
    intervals = [(base + timedelta(days=2 * i), base + timedelta(days=2 * i + 5)) for i in range(RACERS)]

    def deploy(i: int, client: httpx.Client) -> dict[str, Any]:
        start, end = intervals[i]
        spec = {
            "endpoint": "ep-backfill",
            "modelVersionId": f"modelVersion:m:{i + 1}",
            "startedAt": start.isoformat(),
            "endedAt": end.isoformat(),
            "trafficShare": 0.5,
        }
        return post(client, versions.url, DEPLOY, {"i": spec})

    results = at_once(RACERS, deploy, versions.url, tokens.writer)
    assert not [r for r in results if isinstance(r, BaseException)], results
    outcomes = [outcome(r) for r in results]
    assert {o for o in outcomes if o[0] != "OK"} <= {("FAILED_PRECONDITION", "trafficShare")}, outcomes
    assert outcomes.count(("OK", None)) >= 3  # at least every other interval fits, whatever the order
    probes = sorted(
        {s for s, _ in intervals}
        | {e for _, e in intervals}
        | {e - timedelta(seconds=1) for _, e in intervals}
    )
    for moment in probes:
        live = live_shares(versions, tokens.reader, "ep-backfill", moment)
        assert sum(share for _, share in live) <= 1 + 1e-9, (moment, live)


# ---------------------------------------------------------------------------------------------------------
# Identical requests at once

STAGE = """mutation($i: TransitionStageInput!) { transitionStage(input: $i) {
  created events { id seq kind toStage at hash } } }"""


@pytest.mark.parametrize("with_time", [True, False])
def test_concurrent_identical_stage_changes_record_one_event(
    versions: ApiServer, tokens: Tokens, clean_graph: Driver, with_time: bool
) -> None:
    change: dict[str, Any] = {
        "modelVersionId": "modelVersion:m:1",
        "stage": "STAGING",
        "reason": "eval passed",
    }
    if with_time:
        change["at"] = "2026-02-01T00:00:00+00:00"

    def transition(_: int, client: httpx.Client) -> dict[str, Any]:
        return post(client, versions.url, STAGE, {"i": change})

    results = at_once(RACERS, transition, versions.url, tokens.writer)
    assert not [r for r in results if isinstance(r, BaseException)], results
    answers = [ok(r)["transitionStage"] for r in results]
    assert sorted(a["created"] for a in answers) == [False] * (RACERS - 1) + [True]
    assert all(a["events"] == answers[0]["events"] for a in answers)
    assert [e["toStage"] for e in answers[0]["events"]] == ["STAGING"]
    events, _, _ = clean_graph.execute_query(
        "MATCH (e:RegistryEvent {modelId: 'model:m', kind: 'STAGE_CHANGED'}) RETURN count(e) AS n",
        database_="neo4j",
    )
    assert events[0]["n"] == 1
    with httpx.Client(headers=tokens.header("reader"), timeout=60) as client:
        report = ok(post(client, versions.url, "{ verifyAuditChain { valid breaks { chain problem } } }"))
    assert report["verifyAuditChain"] == {"valid": True, "breaks": []}


def test_concurrent_identical_deploy_now_requests_start_one_deployment(
    versions: ApiServer, tokens: Tokens, clean_graph: Driver
) -> None:
    """ "Deploy it now" sent several times at once (a client retrying a slow request): the version is
    deployed once, and every answer names that deployment. (25 rounds, each on its own endpoint: the
    requests that lose the race are the interesting ones.)"""
    for round_ in range(25):
        endpoint = f"ep-now-{round_}"
        register_endpoint(versions, tokens.writer, endpoint)
        spec = {"endpoint": endpoint, "modelVersionId": "modelVersion:m:1", "trafficShare": 0.5}

        def deploy(_: int, client: httpx.Client, spec: dict[str, Any] = spec) -> dict[str, Any]:
            return post(client, versions.url, DEPLOY, {"i": spec})

        results = at_once(RACERS, deploy, versions.url, tokens.writer)
        assert not [r for r in results if isinstance(r, BaseException)], results
        on_endpoint = b.count(
            clean_graph,
            f"MATCH (d:Deployment)-[:ON]->(:Endpoint {{id: 'endpoint:{endpoint}'}}) RETURN count(d)",
        )
        assert on_endpoint == 1, round_
        refused = [r["errors"][0] for r in results if r.get("errors")]
        assert refused == [], (round_, refused)
        answers = [r["data"]["deploy"] for r in results]
        assert sorted(a["created"] for a in answers) == [False] * (RACERS - 1) + [True]
        assert {a["deployment"]["id"] for a in answers} == {f"deployment:{endpoint}:1"}
