"""Small builders that register entities through the GraphQL API, for tests that need a few of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers import data

GraphQL = Callable[..., dict[str, Any]]

NOW_ISH = "2026-06-01T12:00:00+00:00"


def model(gql: GraphQL, name: str = "m") -> str:
    return str(
        data(gql("mutation($n: String!) { registerModel(input: {name: $n}) { model { id } } }", {"n": name}))[
            "registerModel"
        ]["model"]["id"]
    )


def model_version(
    gql: GraphQL, model_name: str = "m", artifact: str = "s3://a/1", **extra: Any
) -> dict[str, Any]:
    result = gql(
        """mutation($i: RegisterModelVersionInput!) {
             registerModelVersion(input: $i) { created modelVersion { id version stage framework } } }""",
        {"i": {"model": model_name, "artifactUri": artifact, "createdAt": "2026-01-01T00:00:00Z", **extra}},
    )
    return result


def stage(gql: GraphQL, version_id: str, to: str, at: str, **extra: Any) -> dict[str, Any]:
    return gql(
        """mutation($i: TransitionStageInput!) {
             transitionStage(input: $i) { modelVersion { id stage } events { kind fromStage toStage modelVersionId } } }""",
        {"i": {"modelVersionId": version_id, "stage": to, "at": at, **extra}},
    )


def endpoint(gql: GraphQL, name: str = "ep") -> None:
    data(
        gql(
            'mutation($n: String!) { registerEndpoint(input: {name: $n, environment: "production"}) { created } }',
            {"n": name},
        )
    )


def deploy(gql: GraphQL, ep: str, version_id: str, started_at: str, share: float = 1.0) -> dict[str, Any]:
    return gql(
        "mutation($i: DeployInput!) { deploy(input: $i) { created deployment { id trafficShare } } }",
        {"i": {"endpoint": ep, "modelVersionId": version_id, "startedAt": started_at, "trafficShare": share}},
    )


def count(driver: Any, cypher: str) -> int:
    records, _, _ = driver.execute_query(cypher, database_="neo4j")
    return int(records[0][0])
