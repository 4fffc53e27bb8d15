"""The AI-BOMs (SPDX 3.0.1 and CycloneDX 1.6) of model versions: valid by the official validators, true
to the graph they were drawn from, complete as far as the graph goes, and the same bytes every time."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from neo4j import Driver
from starlette.testclient import TestClient

import spdx3_official
from bom_story import (
    AS_OF,
    BARE,
    BASE,
    BEFORE_EXCLUSION,
    EXCLUDED_AT,
    IMAGE,
    RICH,
    load_bom_story,
)
from conftest import ROOT, WIPE, sender
from helpers import data, error
from provgraph.api.jsonbody import status_of
from provgraph.domain.catalog import DatasetVersion, Slice, Source
from provgraph.domain.runs import InputRole, Run
from provgraph.service.documents.gather import ModelVersionProvenance

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def known_at(client: TestClient, driver: Driver) -> Iterator[datetime]:
    """The BOM story, loaded once; the time after it was recorded (every document here is drawn as of it)."""
    driver.execute_query(WIPE, database_="neo4j")
    load_bom_story(sender(client))
    yield datetime.now(UTC)


@pytest.fixture(scope="session")
def spdx_files() -> spdx3_official.OfficialFiles:
    state = Path(os.environ.get("PROVGRAPH_STATE_DIR", ROOT / ".provgraph"))
    return spdx3_official.official_files(spdx3_official.fetch(state / "spdx3"))


def export(
    client: TestClient, kind: str, subject: str, known_at: datetime, as_of: datetime = AS_OF, **query: str
) -> Any:
    params = {"asOf": as_of.isoformat(), "knownAt": known_at.isoformat(), **query}
    return client.get(f"/v1/export/{kind}/{subject}", params=params)


def gathered(
    client: TestClient, subject: str, known_at: datetime, as_of: datetime = AS_OF
) -> ModelVersionProvenance:
    gatherer = client.app.state.services.documents.gatherer  # type: ignore[attr-defined]
    found: ModelVersionProvenance = client.portal.call(gatherer.model_version, subject, as_of, known_at)  # type: ignore[union-attr]
    return found


def spdx_doc(client: TestClient, subject: str, known_at: datetime, **kw: Any) -> tuple[Doc, Any]:
    response = export(client, "spdx", subject, known_at, **kw)
    assert response.status_code == 200, response.text
    return json.loads(response.content), response


def local(spdx_id: str) -> str:
    """The provgraph id (or fixed name) an SPDX id was derived from."""
    return spdx_id.split("/", 1)[1]


def relations(doc: Doc) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for o in doc["@graph"]:
        if o["type"] in ("Relationship", "LifecycleScopedRelationship"):
            key = (local(o["from"]), o["relationshipType"])
            found.setdefault(key, set()).update(local(t) if "/" in t else t for t in o["to"])
    return found


def elements(doc: Doc) -> dict[str, Doc]:
    return {local(o["spdxId"]): o for o in doc["@graph"] if "spdxId" in o}


def inputs(run: Run, *roles: InputRole) -> set[str]:
    return {i.id for i in run.inputs if i.role in roles}


def test_the_spdx_bom_passes_the_official_validator_and_holds_the_graph(
    client: TestClient, known_at: datetime, spdx_files: spdx3_official.OfficialFiles
) -> None:
    doc, response = spdx_doc(client, RICH, known_at)
    assert response.headers["content-type"] == "application/spdx3+json"
    assert response.headers["content-disposition"].endswith('.spdx3.json"')
    assert spdx3_official.validate(response.text, spdx_files) == []

    graph = gathered(client, RICH, known_at)
    found, rel = elements(doc), relations(doc)
    # every model version, dataset version, slice and source upstream is a package of its own kind
    for node in graph.upstream.nodes.values():
        if isinstance(node, DatasetVersion | Slice):
            assert found[node.id]["type"] == "dataset_DatasetPackage"
        if isinstance(node, Source):
            assert found[node.id]["type"] == "software_Package"
    for version in (graph.model_version, graph.base_model_version):
        assert version is not None and found[version.id]["type"] == "ai_AIPackage"
    # each model's training data by role, as its run recorded it
    for version_id in (RICH, BASE):
        run = next(r for r in graph.runs if graph.upstream.nodes[version_id].trained_by == r.id)  # type: ignore[union-attr]
        assert rel[(version_id, "trainedOn")] == inputs(run, InputRole.TRAIN)
        assert rel[(version_id, "testedOn")] == inputs(run, InputRole.VALIDATION, InputRole.TEST)
        package = found[version_id]
        assert {(e["key"], e["value"]) for e in package["ai_hyperparameter"]} == set(run.params.items())
        assert run.key in package["ai_informationAboutTraining"]
        assert run.code.commit is None or run.code.commit in package["ai_informationAboutTraining"]
    assert rel[(RICH, "descendantOf")] == {BASE}
    assert {e["key"] for e in found[BASE]["ai_metric"]} == {"f1", "loss"}  # the version's and its run's
    # digests: whole ones as hashes, with the value recorded
    for node in graph.dataset_versions + graph.slices:
        hashes = found[node.id].get("verifiedUsing", [])
        if node.digest:
            assert hashes == [{"type": "Hash", "algorithm": "sha256", "hashValue": node.digest.split(":")[1]}]
        else:
            assert hashes == []
    # licences: each data package declares its sources' (a non-SPDX one as a LicenseRef), never invents one
    licences = {o["spdxId"]: o for o in doc["@graph"] if o["type"] == "simplelicensing_LicenseExpression"}

    def declared(node_id: str) -> str:
        (target,) = rel[(node_id, "hasDeclaredLicense")]
        match = [o for i, o in licences.items() if local(i) == target]
        return match[0]["simplelicensing_licenseExpression"] if match else target

    assert declared("datasetVersion:labels:v1") == "CC-BY-4.0"
    assert declared("datasetVersion:forum:v1") == "MIT OR Apache-2.0"
    assert declared("slice:corpus:v2:train") == "LicenseRef-provgraph-mixed"  # from crawl, through v2 and v1
    assert declared("datasetVersion:tickets:v1") == "expandedlicensing_NoAssertionLicense"  # none recorded
    assert declared(RICH) == "expandedlicensing_NoAssertionLicense"
    assert "licence 'mixed' from source:crawl" in found["slice:corpus:v2:train"]["comment"]
    # the training environment: pinned packages as pypi purls, the framework, Python and the image
    dependencies = rel[(BASE, "dependsOn")]
    purls = {found[p].get("software_packageUrl") for p in dependencies}
    assert {"pkg:pypi/torch@2.5.1", "pkg:pypi/numpy@2.1.3", "pkg:pypi/some-pkg@1.0"} <= purls
    purposes = {found[p]["software_primaryPurpose"]: found[p] for p in dependencies}
    assert purposes["framework"]["name"] == "torch"
    assert purposes["platform"]["software_packageVersion"] == "3.11.9"
    assert purposes["container"]["verifiedUsing"][0]["hashValue"] == IMAGE.split(":")[1]
    # the excluded source is flagged where a consumer looks: an annotation on it, and the document says so
    (annotation,) = [
        o for o in doc["@graph"] if o["type"] == "Annotation" and o["annotationType"] == "review"
    ]
    assert local(annotation["subject"]) == "source:forum"
    assert EXCLUDED_AT.isoformat() in annotation["statement"] and "terms changed" in annotation["statement"]
    document = next(o for o in doc["@graph"] if o["type"] == "SpdxDocument")
    assert "source:forum" in document["comment"]
    assert doc["@graph"][0]["created"] == known_at.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_before_the_exclusion_nothing_is_flagged(client: TestClient, known_at: datetime) -> None:
    doc, _ = spdx_doc(client, RICH, known_at, as_of=BEFORE_EXCLUSION)
    assert not [o for o in doc["@graph"] if o["type"] == "Annotation" and o["annotationType"] == "review"]
    bom = export(client, "cyclonedx", RICH, known_at, as_of=BEFORE_EXCLUSION).json()
    assert "provgraph:excludedSource" not in {p["name"] for p in bom["metadata"]["properties"]}


def test_the_cyclonedx_bom_passes_the_schema_validator_and_holds_the_graph(
    client: TestClient, known_at: datetime
) -> None:
    response = export(client, "cyclonedx", RICH, known_at)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.cyclonedx+json; version=1.6"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(response.text) is None
    bom = response.json()
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")

    graph = gathered(client, RICH, known_at)
    components = {c["bom-ref"]: c for c in bom["components"]}
    model = bom["metadata"]["component"]
    assert (model["bom-ref"], model["type"], model["version"]) == (RICH, "machine-learning-model", "1")
    run = graph.trained_by
    assert run is not None
    assert {d["ref"] for d in model["modelCard"]["modelParameters"]["datasets"]} == {i.id for i in run.inputs}
    roles = {(p["name"], p["value"]) for p in model["modelCard"]["properties"]}
    assert ("provgraph:dataset:validation", "datasetVersion:tickets:v1") in roles
    assert model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "bleu", "value": "31.5"}
    ]
    assert "fine-tuned from " + BASE in model["pedigree"]["notes"]
    base = components[BASE]
    assert base["type"] == "machine-learning-model"
    base_run = next(r for r in graph.runs if r.key == "base-train")
    hyper = {
        p["name"]: p["value"] for p in base["properties"] if p["name"].startswith("provgraph:hyperparameter:")
    }
    assert hyper == {f"provgraph:hyperparameter:{k}": v for k, v in base_run.params.items()}
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    assert BASE in depends[RICH] and {i.id for i in run.inputs} <= depends[RICH]
    for node in graph.dataset_versions + graph.slices:
        component = components[node.id]
        assert component["type"] == "data" and component["data"][0]["type"] == "dataset"
        if node.digest:
            assert component["hashes"] == [{"alg": "SHA-256", "content": node.digest.split(":")[1]}]
        else:
            assert "hashes" not in component
    forum = components["datasetVersion:forum:v1"]
    assert forum["licenses"] == [{"expression": "MIT OR Apache-2.0", "acknowledgement": "declared"}]
    labels = components["datasetVersion:labels:v1"]["licenses"][0]["license"]
    assert labels["id"] == "CC-BY-4.0" and labels["properties"] == [
        {"name": "provgraph:source", "value": "source:vendor"}
    ]
    crawl = components["slice:corpus:v2:train"]["licenses"][0]["license"]
    assert crawl["name"] == "mixed"  # not an SPDX licence: named, as recorded
    assert "licenses" not in components["datasetVersion:tickets:v1"]
    excluded = {p["name"]: p["value"] for p in components["source:forum"]["properties"]}
    assert (
        excluded["provgraph:excluded"] == "true" and excluded["provgraph:exclusionReason"] == "terms changed"
    )
    assert excluded["provgraph:excludedAt"] == EXCLUDED_AT.isoformat()
    assert ("provgraph:excludedSource", "source:forum") in {
        (p["name"], p["value"]) for p in bom["metadata"]["properties"]
    }
    purls = {c.get("purl") for c in components.values()}
    assert {"pkg:pypi/torch@2.5.1", "pkg:pypi/some-pkg@1.0"} <= purls
    assert bom["metadata"]["tools"]["components"][0]["name"] == "provgraph"


@pytest.mark.parametrize("kind", ["spdx", "cyclonedx"])
def test_the_same_request_gives_the_same_bytes(client: TestClient, known_at: datetime, kind: str) -> None:
    first = export(client, kind, RICH, known_at).content
    assert export(client, kind, RICH, known_at).content == first
    other = export(client, kind, RICH, known_at, as_of=BEFORE_EXCLUSION).content
    assert other != first
    if kind == "cyclonedx":
        assert json.loads(other)["serialNumber"] != json.loads(first)["serialNumber"]


@pytest.mark.parametrize("kind", ["spdx", "cyclonedx"])
def test_completeness_says_what_is_missing(client: TestClient, known_at: datetime, kind: str) -> None:
    rich, bare = export(client, kind, RICH, known_at), export(client, kind, BARE, known_at)
    query = """query($k: DocumentKind!, $id: ID!, $a: DateTime, $t: DateTime) {
      exportDocument(kind: $k, id: $id, asOf: $a, knownAt: $t) { completeness { score present missing } text } }"""
    scores = {}
    for subject, response in ((RICH, rich), (BARE, bare)):
        answer = data(
            sender(client)(
                query, {"k": kind.upper(), "id": subject, "a": AS_OF.isoformat(), "t": known_at.isoformat()}
            )
        )["exportDocument"]
        completeness = answer["completeness"]
        assert answer["text"].encode() == response.content  # GraphQL and the download give the same document
        assert float(response.headers["x-provgraph-completeness"]) == pytest.approx(
            completeness["score"], abs=1e-3
        )
        assert completeness["score"] == pytest.approx(
            len(completeness["present"]) / (len(completeness["present"]) + len(completeness["missing"]))
        )
        assert f"{completeness['score']:.3f}" in response.text  # the document states it too
        scores[subject] = completeness
    assert scores[RICH]["score"] > scores[BARE]["score"]
    # the bare version: no run, so no data, no hyperparameters, no metrics
    trained = "model.trainedOn" if kind == "spdx" else "model.modelCard.modelParameters.datasets"
    metric = "model.metric" if kind == "spdx" else "model.modelCard.quantitativeAnalysis.performanceMetrics"
    assert {trained, metric} <= set(scores[BARE]["missing"])
    assert {trained, metric} <= set(scores[RICH]["present"])
    # what no graph of ours holds is missing for both
    never = (
        "model.safetyRiskAssessment"
        if kind == "spdx"
        else "model.modelCard.considerations.fairnessAssessments"
    )
    assert never in scores[RICH]["missing"] and never in scores[BARE]["missing"]
    if kind == "spdx":
        assert (
            "model.hyperparameter" in scores[BARE]["missing"]
            and "model.hyperparameter" in scores[RICH]["present"]
        )
        # tickets:v1 has no digest, so not every dataset the assistant was tested on is verifiable
        assert "dataset.verifiedUsing" in scores[RICH]["missing"]
        assert "dataset.knownBias" in scores[RICH]["missing"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/export/spdx/source:crawl", "id"),  # a BOM is about a model version
        ("/v1/export/cyclonedx/datasetVersion:labels:v1", "id"),
        ("/v1/export/spdx/modelVersion:base:1?format=xml", "format"),
        ("/v1/export/cyclonedx/modelVersion:base:1?format=turtle", "format"),
        ("/v1/export/cyclonedx/modelVersion:base:1?answer=trace", "answer"),
        ("/v1/export/spdx/modelVersion:base:1?asOf=2025-01-01T00:00:00Z", "asOf"),  # before it was created
    ],
)
def test_bad_requests_are_refused_with_a_code(
    client: TestClient, known_at: datetime, path: str, field: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "INVALID_ARGUMENT"
    assert response.json()["error"]["field"] == field


def test_an_unknown_model_version_is_not_found(client: TestClient, known_at: datetime) -> None:
    response = client.get("/v1/export/cyclonedx/modelVersion:nothing:1")
    assert response.status_code == status_of("NOT_FOUND") and response.json()["error"]["code"] == "NOT_FOUND"
    refused = error(sender(client)('{ exportDocument(kind: SPDX, id: "source:crawl") { text } }'))
    assert refused["extensions"]["code"] == "INVALID_ARGUMENT"
