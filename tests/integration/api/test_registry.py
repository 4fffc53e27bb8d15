"""The model registry through the API: numbering, idempotency, stage rules, aliases, history."""

from __future__ import annotations

import itertools

import pytest
from neo4j import Driver

import builders as b
from conftest import GraphQL
from helpers import data, error


@pytest.fixture
def one_model(gql: GraphQL) -> GraphQL:
    b.model(gql, "m")
    return gql


def test_versions_are_numbered_per_model_and_registration_is_idempotent(
    one_model: GraphQL, clean_graph: Driver
) -> None:
    gql = one_model
    first = data(b.model_version(gql, artifact="s3://a/1", framework="torch"))["registerModelVersion"]
    second = data(b.model_version(gql, artifact="s3://a/2"))["registerModelVersion"]
    again = data(b.model_version(gql, artifact="s3://a/1", framework="torch"))["registerModelVersion"]
    assert [first["modelVersion"]["version"], second["modelVersion"]["version"]] == [1, 2]
    assert again == {**first, "created": False}
    assert b.count(clean_graph, "MATCH (v:ModelVersion) RETURN count(v)") == 2
    assert b.count(clean_graph, "MATCH (e:RegistryEvent {kind: 'REGISTERED'}) RETURN count(e)") == 2
    b.model(gql, "other")
    other = data(b.model_version(gql, model_name="other", artifact="s3://a/1"))["registerModelVersion"]
    assert other["modelVersion"]["id"] == "modelVersion:other:1"


def test_a_conflicting_registration_names_the_field(one_model: GraphQL) -> None:
    data(b.model_version(one_model, framework="torch"))
    failure = error(b.model_version(one_model, framework="jax"))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == ("CONFLICT", "framework")


@pytest.mark.parametrize(
    ("extra", "code", "field"),
    [
        ({"model": "unregistered"}, "NOT_FOUND", "model"),
        ({"trainedBy": "run:never"}, "NOT_FOUND", "trainedBy"),
        ({"fineTunedFrom": "modelVersion:m:9"}, "NOT_FOUND", "fineTunedFrom"),
        ({"fineTunedFrom": "model:m"}, "INVALID_ARGUMENT", "fineTunedFrom"),
        ({"sizeBytes": -5}, "INVALID_ARGUMENT", "sizeBytes"),
        ({"artifactUri": "  "}, "INVALID_ARGUMENT", "artifactUri"),
        ({"tags": ["no spaces allowed"]}, "INVALID_ARGUMENT", "tags"),
        ({"createdAt": "2026-01-01T00:00:00"}, "INVALID_ARGUMENT", "createdAt"),
        ({"createdAt": "2099-01-01T00:00:00Z"}, "INVALID_ARGUMENT", "createdAt"),
        (
            {"metrics": [{"key": "acc", "value": 0.9}, {"key": "acc", "value": 0.8}]},
            "INVALID_ARGUMENT",
            "metrics",
        ),
    ],
)
def test_bad_version_registrations(
    one_model: GraphQL, clean_graph: Driver, extra: dict[str, object], code: str, field: str
) -> None:
    failure = error(b.model_version(one_model, **extra))
    assert (failure["extensions"]["code"], failure["extensions"]["field"]) == (code, field)
    assert b.count(clean_graph, "MATCH (v:ModelVersion) RETURN count(v)") == 0


def test_stage_rules(one_model: GraphQL, clean_graph: Driver) -> None:
    gql = one_model
    data(b.model_version(gql))
    forbidden = error(b.stage(gql, "modelVersion:m:1", "PRODUCTION", "2026-02-01T00:00:00Z"))
    assert (forbidden["extensions"]["code"], forbidden["extensions"]["field"]) == (
        "FAILED_PRECONDITION",
        "stage",
    )
    assert (
        "through STAGING" not in forbidden["message"]
        and "may go to ARCHIVED, STAGING" in forbidden["message"]
    )
    staged = data(b.stage(gql, "modelVersion:m:1", "STAGING", "2026-02-01T00:00:00Z"))["transitionStage"]
    assert staged["events"] == [
        {
            "kind": "STAGE_CHANGED",
            "fromStage": "NONE",
            "toStage": "STAGING",
            "modelVersionId": "modelVersion:m:1",
        }
    ]
    same = error(b.stage(gql, "modelVersion:m:1", "STAGING", "2026-02-02T00:00:00Z"))
    assert same["extensions"]["code"] == "FAILED_PRECONDITION"
    backdated = error(b.stage(gql, "modelVersion:m:1", "PRODUCTION", "2026-01-15T00:00:00Z"))
    assert (backdated["extensions"]["code"], backdated["extensions"]["field"]) == (
        "FAILED_PRECONDITION",
        "at",
    )
    before_creation = error(b.stage(gql, "modelVersion:m:1", "ARCHIVED", "2025-12-01T00:00:00Z"))
    assert before_creation["extensions"]["code"] == "FAILED_PRECONDITION"
    # Refusals wrote nothing: still STAGING, one registration and one stage event.
    stage_now = data(gql('{ modelVersion(id: "modelVersion:m:1") { stage } }'))["modelVersion"]["stage"]
    assert stage_now == "STAGING"
    assert b.count(clean_graph, "MATCH (e:RegistryEvent) RETURN count(e)") == 2
    bad_enum = error(b.stage(gql, "modelVersion:m:1", "LIVE", "2026-02-03T00:00:00Z"))
    assert bad_enum["extensions"]["code"] == "INVALID_ARGUMENT"
    unknown = error(b.stage(gql, "modelVersion:m:7", "STAGING", "2026-02-03T00:00:00Z"))
    assert (unknown["extensions"]["code"], unknown["extensions"]["field"]) == ("NOT_FOUND", "versionId")


def test_promoting_with_archive_others(one_model: GraphQL) -> None:
    gql = one_model
    for n, artifact in enumerate(["s3://a/1", "s3://a/2"], start=1):
        data(b.model_version(gql, artifact=artifact))
        data(b.stage(gql, f"modelVersion:m:{n}", "STAGING", f"2026-02-0{n}T00:00:00Z"))
    data(b.stage(gql, "modelVersion:m:1", "PRODUCTION", "2026-03-01T00:00:00Z"))
    promoted = data(
        b.stage(gql, "modelVersion:m:2", "PRODUCTION", "2026-04-01T00:00:00Z", archiveOthers=True)
    )
    assert [(e["modelVersionId"], e["toStage"]) for e in promoted["transitionStage"]["events"]] == [
        ("modelVersion:m:1", "ARCHIVED"),
        ("modelVersion:m:2", "PRODUCTION"),
    ]
    listing = data(gql('{ modelVersions(where: {model: "m"}) { nodes { id stage } } }'))["modelVersions"][
        "nodes"
    ]
    assert listing == [
        {"id": "modelVersion:m:1", "stage": "ARCHIVED"},
        {"id": "modelVersion:m:2", "stage": "PRODUCTION"},
    ]


SET_ALIAS = """mutation($i: SetAliasInput!) { setAlias(input: $i) {
  modelVersion { id aliases } events { kind alias modelVersionId previousVersionId } } }"""
REMOVE_ALIAS = (
    "mutation($i: RemoveAliasInput!) { removeAlias(input: $i) { events { kind alias previousVersionId } } }"
)


def test_aliases_are_unique_per_model_and_every_move_is_an_event(one_model: GraphQL) -> None:
    gql = one_model
    data(b.model_version(gql, artifact="s3://a/1"))
    data(b.model_version(gql, artifact="s3://a/2"))
    first = data(
        gql(SET_ALIAS, {"i": {"model": "m", "alias": "champion", "modelVersionId": "modelVersion:m:1"}})
    )
    assert first["setAlias"]["modelVersion"]["aliases"] == ["champion"]
    moved = data(
        gql(SET_ALIAS, {"i": {"model": "m", "alias": "champion", "modelVersionId": "modelVersion:m:2"}})
    )
    assert moved["setAlias"]["events"] == [
        {
            "kind": "ALIAS_SET",
            "alias": "champion",
            "modelVersionId": "modelVersion:m:2",
            "previousVersionId": "modelVersion:m:1",
        }
    ]
    repeat = data(
        gql(SET_ALIAS, {"i": {"model": "m", "alias": "champion", "modelVersionId": "modelVersion:m:2"}})
    )
    assert repeat["setAlias"]["events"] == moved["setAlias"]["events"]  # the recorded move, not a new one
    versions = data(gql('{ model(id: "model:m") { versions { id aliases } } }'))["model"]["versions"]
    assert versions == [
        {"id": "modelVersion:m:1", "aliases": []},
        {"id": "modelVersion:m:2", "aliases": ["champion"]},
    ]
    removed = data(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "champion"}}))
    assert removed["removeAlias"]["events"] == [
        {"kind": "ALIAS_REMOVED", "alias": "champion", "previousVersionId": "modelVersion:m:2"}
    ]
    removed_again = data(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "champion"}}))
    assert removed_again["removeAlias"]["events"] == removed["removeAlias"]["events"]
    never_set = error(gql(REMOVE_ALIAS, {"i": {"model": "m", "alias": "challenger"}}))
    assert (never_set["extensions"]["code"], never_set["extensions"]["field"]) == (
        "FAILED_PRECONDITION",
        "alias",
    )
    history = data(gql('{ model(id: "model:m") { history { seq kind prevHash hash } } }'))["model"]["history"]
    assert [e["kind"] for e in history] == [
        "REGISTERED",
        "REGISTERED",
        "ALIAS_SET",
        "ALIAS_SET",
        "ALIAS_REMOVED",
    ]
    assert [e["seq"] for e in history] == [1, 2, 3, 4, 5]
    assert all(later["prevHash"] == earlier["hash"] for earlier, later in itertools.pairwise(history))


def test_bad_alias_requests(one_model: GraphQL) -> None:
    gql = one_model
    data(b.model_version(gql))
    b.model(gql, "other")
    data(b.model_version(gql, model_name="other", artifact="s3://o/1"))
    foreign = error(
        gql(SET_ALIAS, {"i": {"model": "m", "alias": "champion", "modelVersionId": "modelVersion:other:1"}})
    )
    assert (foreign["extensions"]["code"], foreign["extensions"]["field"]) == (
        "FAILED_PRECONDITION",
        "versionId",
    )
    badly_named = error(
        gql(SET_ALIAS, {"i": {"model": "m", "alias": "Champion!", "modelVersionId": "modelVersion:m:1"}})
    )
    assert (badly_named["extensions"]["code"], badly_named["extensions"]["field"]) == (
        "INVALID_ARGUMENT",
        "alias",
    )
    no_model = error(
        gql(SET_ALIAS, {"i": {"model": "ghost", "alias": "x", "modelVersionId": "modelVersion:m:1"}})
    )
    assert no_model["extensions"]["code"] == "NOT_FOUND"


def test_model_versions_page_with_filters(one_model: GraphQL) -> None:
    gql = one_model
    for n in range(1, 6):
        data(
            b.model_version(
                gql,
                artifact=f"s3://a/{n}",
                metrics=[{"key": "acc", "value": n / 10}],
                tags=["nlp"] if n % 2 else [],
            )
        )
    seen: list[str] = []
    after = None
    while True:
        page = data(
            gql(
                'query($after: String) { modelVersions(where: {model: "m"}, first: 2, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }',
                {"after": after},
            )
        )["modelVersions"]
        assert page["totalCount"] == 5
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"modelVersion:m:{n}" for n in range(1, 6)]
    good = data(
        gql('{ modelVersions(where: {metric: "acc", metricMin: 0.3}) { nodes { id metric(key: "acc") } } }')
    )
    assert [n["id"] for n in good["modelVersions"]["nodes"]] == [
        "modelVersion:m:3",
        "modelVersion:m:4",
        "modelVersion:m:5",
    ]
    tagged = data(gql('{ modelVersions(where: {tag: "nlp"}) { totalCount } }'))
    assert tagged["modelVersions"]["totalCount"] == 3
    no_metric = error(gql("{ modelVersions(where: {metricMin: 0.3}) { totalCount } }"))
    assert (no_metric["extensions"]["code"], no_metric["extensions"]["field"]) == (
        "INVALID_ARGUMENT",
        "metric",
    )
    empty = data(gql("{ sources(first: 1) { totalCount pageInfo { hasNextPage endCursor } } }"))
    assert empty["sources"] == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}}
    models_cursor = data(gql("{ models(first: 1) { pageInfo { endCursor } } }"))["models"]["pageInfo"][
        "endCursor"
    ]
    foreign = error(
        gql("query($a: String) { modelVersions(after: $a) { totalCount } }", {"a": models_cursor})
    )
    assert (foreign["extensions"]["code"], foreign["extensions"]["field"]) == ("INVALID_ARGUMENT", "after")
