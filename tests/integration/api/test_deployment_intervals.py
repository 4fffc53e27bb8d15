"""Deployments are intervals: at no instant may an endpoint's live traffic shares add up to more than 1,
whatever order the facts arrive in — open or closed, backdated or backfilled."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from neo4j import Driver

import builders as b
from conftest import GraphQL
from helpers import data, error

DEPLOY = """mutation($i: DeployInput!) { deploy(input: $i) {
  created deployment { id modelVersionId startedAt endedAt trafficShare } } }"""
DEPLOYED_AT = """query($ep: String!, $at: DateTime!) {
  deployedAt(endpoint: $ep, at: $at) { id modelVersionId startedAt endedAt trafficShare } }"""
END = "mutation($i: EndDeploymentInput!) { endDeployment(input: $i) { created deployment { id endedAt } } }"


def day(month: int, d: int) -> datetime:
    return datetime(2026, month, d, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


JAN1, FEB1, MAR1, APR1, APR2, MAY1, JUN1 = (
    day(1, 1),
    day(2, 1),
    day(3, 1),
    day(4, 1),
    day(4, 2),
    day(5, 1),
    day(6, 1),
)


@pytest.fixture
def versions(gql: GraphQL) -> GraphQL:
    """Model m with versions 1-6, all created in December 2025; endpoints ep and ep2."""
    b.model(gql, "m")
    for n in range(1, 7):
        data(b.model_version(gql, artifact=f"s3://a/{n}", createdAt="2025-12-01T00:00:00Z"))
    b.endpoint(gql, "ep")
    b.endpoint(gql, "ep2")
    return gql


def deploy(
    gql: GraphQL,
    version: int,
    start: datetime,
    share: float,
    end: datetime | None = None,
    endpoint: str = "ep",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "endpoint": endpoint,
        "modelVersionId": f"modelVersion:m:{version}",
        "startedAt": iso(start),
        "trafficShare": share,
    }
    if end is not None:
        spec["endedAt"] = iso(end)
    return gql(DEPLOY, {"i": spec})


def live(gql: GraphQL, at: datetime, endpoint: str = "ep") -> list[tuple[str, float]]:
    found = data(gql(DEPLOYED_AT, {"ep": endpoint, "at": iso(at)}))["deployedAt"]
    return sorted((d["modelVersionId"], d["trafficShare"]) for d in found)


def refused(body: dict[str, Any], code: str, field: str) -> dict[str, Any]:
    failure = error(body)
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == (code, field), failure
    return failure


def deployments(driver: Driver) -> int:
    return b.count(driver, "MATCH (d:Deployment) RETURN count(d)")


def test_a_backdated_open_deployment_that_would_overfill_a_closed_interval_is_refused(
    versions: GraphQL, clean_graph: Driver
) -> None:
    gql = versions
    closed = data(deploy(gql, 1, MAR1, 1.0, end=MAY1))["deploy"]
    assert closed["created"] is True and closed["deployment"]["endedAt"] == iso(MAY1)
    assert data(deploy(gql, 2, MAY1, 1.0))["deploy"]["created"] is True  # [Mar 1, May 1) then [May 1, …)

    failure = refused(deploy(gql, 3, APR1, 0.5), "FAILED_PRECONDITION", "trafficShare")
    assert iso(APR1) in failure["message"]  # the instant the endpoint would be overfilled
    assert "150%" in failure["message"]
    refused(
        deploy(gql, 3, APR1, 0.5, end=APR2), "FAILED_PRECONDITION", "trafficShare"
    )  # inside v1's interval
    # Overlapping only the end of v1 and the start of v2 is refused as well.
    late = refused(deploy(gql, 3, day(4, 20), 0.5, end=day(5, 10)), "FAILED_PRECONDITION", "trafficShare")
    assert iso(day(4, 20)) in late["message"]
    # An open deployment that starts before v1 and would run into it is refused at v1's start.
    early = refused(deploy(gql, 3, FEB1, 0.5), "FAILED_PRECONDITION", "trafficShare")
    assert iso(MAR1) in early["message"]
    assert deployments(clean_graph) == 2

    # What fits is accepted: before v1, back to back with it.
    assert data(deploy(gql, 3, FEB1, 1.0, end=MAR1))["deploy"]["created"] is True
    assert live(gql, day(2, 15)) == [("modelVersion:m:3", 1.0)]
    assert live(gql, MAR1) == [("modelVersion:m:1", 1.0)]
    assert live(gql, APR1) == [("modelVersion:m:1", 1.0)]
    assert live(gql, MAY1) == [("modelVersion:m:2", 1.0)]


def test_closed_intervals_backfilled_out_of_order_that_fit_are_accepted(
    versions: GraphQL, clean_graph: Driver
) -> None:
    gql = versions
    assert data(deploy(gql, 1, FEB1, 1.0, end=MAR1))["deploy"]["created"] is True
    assert data(deploy(gql, 2, JAN1, 1.0, end=FEB1))["deploy"]["created"] is True
    assert data(deploy(gql, 3, MAR1, 0.5, end=APR1))["deploy"]["created"] is True
    assert data(deploy(gql, 4, day(3, 15), 0.5))["deploy"]["created"] is True  # open, half of the traffic
    assert data(deploy(gql, 5, APR1, 0.5, end=MAY1))["deploy"]["created"] is True  # takes over v3's half
    assert deployments(clean_graph) == 5
    expected = {
        datetime(2025, 12, 31, tzinfo=UTC): [],
        JAN1: [("modelVersion:m:2", 1.0)],
        FEB1 - timedelta(microseconds=1): [("modelVersion:m:2", 1.0)],
        FEB1: [("modelVersion:m:1", 1.0)],
        MAR1: [("modelVersion:m:3", 0.5)],
        day(3, 20): [("modelVersion:m:3", 0.5), ("modelVersion:m:4", 0.5)],
        APR1: [("modelVersion:m:4", 0.5), ("modelVersion:m:5", 0.5)],
        MAY1: [("modelVersion:m:4", 0.5)],
    }
    for at, answer in expected.items():
        assert live(gql, at) == answer, at
    refused(deploy(gql, 6, day(4, 10), 0.1, end=day(4, 11)), "FAILED_PRECONDITION", "trafficShare")


def test_canaries_fill_the_endpoint_and_no_more(versions: GraphQL, clean_graph: Driver) -> None:
    gql = versions
    assert data(deploy(gql, 1, MAR1, 0.9))["deploy"]["created"] is True
    assert data(deploy(gql, 2, MAR1, 0.1))["deploy"]["created"] is True
    refused(deploy(gql, 3, MAR1, 0.1), "FAILED_PRECONDITION", "trafficShare")
    refused(deploy(gql, 3, APR1, 0.1), "FAILED_PRECONDITION", "trafficShare")
    refused(deploy(gql, 3, FEB1, 0.1, end=day(3, 2)), "FAILED_PRECONDITION", "trafficShare")
    assert live(gql, APR1) == [("modelVersion:m:1", 0.9), ("modelVersion:m:2", 0.1)]
    # Ending the canary makes room again, from its end on only.
    data(gql(END, {"i": {"deploymentId": "deployment:ep:2", "endedAt": iso(APR1)}}))
    refused(deploy(gql, 3, day(3, 20), 0.1), "FAILED_PRECONDITION", "trafficShare")
    assert data(deploy(gql, 3, APR1, 0.1))["deploy"]["created"] is True
    assert live(gql, APR1) == [("modelVersion:m:1", 0.9), ("modelVersion:m:3", 0.1)]
    assert deployments(clean_graph) == 3


def test_a_version_cannot_overlap_itself_on_an_endpoint(versions: GraphQL, clean_graph: Driver) -> None:
    gql = versions
    data(deploy(gql, 1, MAR1, 0.5, end=MAY1))
    refused(deploy(gql, 1, APR1, 0.1, end=day(4, 15)), "FAILED_PRECONDITION", "modelVersionId")
    refused(deploy(gql, 1, day(4, 20), 0.1), "FAILED_PRECONDITION", "modelVersionId")
    refused(deploy(gql, 1, FEB1, 0.1, end=day(3, 2)), "FAILED_PRECONDITION", "modelVersionId")
    refused(deploy(gql, 1, FEB1, 0.1), "FAILED_PRECONDITION", "modelVersionId")  # open, runs into it
    assert deployments(clean_graph) == 1
    # Back to back with itself, and on another endpoint at the same time, are fine.
    assert data(deploy(gql, 1, MAY1, 0.5, end=JUN1))["deploy"]["created"] is True
    assert data(deploy(gql, 1, FEB1, 0.5, end=MAR1))["deploy"]["created"] is True
    assert data(deploy(gql, 1, APR1, 1.0, endpoint="ep2"))["deploy"]["created"] is True
    assert deployments(clean_graph) == 4


@pytest.mark.parametrize("end", [MAR1, FEB1])
def test_an_interval_must_end_after_it_starts(versions: GraphQL, clean_graph: Driver, end: datetime) -> None:
    refused(deploy(versions, 1, MAR1, 0.5, end=end), "INVALID_ARGUMENT", "endedAt")
    assert deployments(clean_graph) == 0


# ---------------------------------------------------------------------------------------------------------
# Any order: a reference model of the rule decides each fact; the service must decide the same, and what it
# accepted never adds up to more than 1 at any instant.


@dataclass(frozen=True)
class Interval:
    version: int
    start: datetime
    end: datetime | None
    share: float

    def live_at(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


FACTS = [
    Interval(1, JAN1, MAR1, 0.6),
    Interval(2, FEB1, APR1, 0.4),
    Interval(3, MAR1, None, 0.6),
    Interval(4, day(1, 15), day(2, 15), 0.5),
    Interval(5, APR1, MAY1, 0.4),
]


def fits(candidate: Interval, accepted: list[Interval]) -> bool:
    instants = {candidate.start} | {i.start for i in accepted} | {i.end for i in accepted if i.end}
    for at in instants:
        if not candidate.live_at(at):
            continue
        total = candidate.share + sum(i.share for i in accepted if i.live_at(at))
        if total > 1 + 1e-9:
            return False
    return True


ORDERS = list(itertools.permutations(range(len(FACTS))))[::6]  # 20 of the 120 orders, every first fact


def test_live_traffic_never_exceeds_one_whatever_the_order(versions: GraphQL, clean_graph: Driver) -> None:
    gql = versions
    boundaries = sorted({f.start for f in FACTS} | {f.end for f in FACTS if f.end})
    probes = sorted(set(boundaries) | {t - timedelta(seconds=1) for t in boundaries})
    for n, order in enumerate(ORDERS):
        endpoint = f"ep-order-{n}"
        b.endpoint(gql, endpoint)
        accepted: list[Interval] = []
        for index in order:
            fact = FACTS[index]
            body = deploy(gql, fact.version, fact.start, fact.share, end=fact.end, endpoint=endpoint)
            if fits(fact, accepted):
                assert data(body)["deploy"]["created"] is True, (order, fact)
                accepted.append(fact)
            else:
                refused(body, "FAILED_PRECONDITION", "trafficShare")
        for at in probes:
            served = live(gql, at, endpoint)
            assert sum(share for _, share in served) <= 1 + 1e-9, (order, at, served)
            assert served == sorted(
                (f"modelVersion:m:{i.version}", i.share) for i in accepted if i.live_at(at)
            ), (order, at)
