"""The dossier against what users can send: hostile text in every free-text field, an excluded source,
requests it must refuse, and a server without Graphviz."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from conftest import GraphQL
from dossier_pages import DossierPage
from helpers import data
from provgraph.service.documents.gather import Gatherer, ModelVersionProvenance
from story import load_story

SCRIPT = '<script>alert("x")</script>'
HOSTILE = {
    "licence": f"CC-BY {SCRIPT}",
    "uri": "javascript:alert(1)",
    "source description": '"><img src=x onerror=alert(1)>',
    "model description": "<b>bold</b> & <i>italic</i>",
    "transform": f"</td></tr></table>{SCRIPT}",
    "param": "<style>body{display:none}</style>",
    "reason": "<a href='https://evil.example'>approved</a>",
    "predicate": "x < 3 && y > 4 <!-- -->",
}
# Every element the dossier writes (the page's, and the SVG Graphviz writes for the picture).
PAGE_ELEMENTS = "html head meta title style body header main section nav footer h1 h2 h3 p div span strong br"
TABLE_ELEMENTS = "table caption thead tbody tr th td ol li a figure figcaption"
SVG_ELEMENTS = "svg g polygon path text ellipse polyline"
ALLOWED = set(f"{PAGE_ELEMENTS} {TABLE_ELEMENTS} {SVG_ELEMENTS}".split(" "))


def send_hostile(gql: GraphQL) -> None:
    def run(query: str, **variables: object) -> None:
        data(gql(query, variables))

    run(
        "mutation($i: RegisterSourceInput!) { registerSource(input: $i) { source { id } } }",
        i={
            "name": "evil",
            "kind": "crawl",
            "license": HOSTILE["licence"],
            "uri": HOSTILE["uri"],
            "description": HOSTILE["source description"],
        },
    )
    run('mutation { registerDataset(input: {name: "d"}) { dataset { id } } }')
    version = "mutation($i: RegisterDatasetVersionInput!) { registerDatasetVersion(input: $i) { datasetVersion { id } } }"
    run(
        version,
        i={
            "dataset": "d",
            "version": "v1",
            "sourceIds": ["source:evil"],
            "createdAt": "2026-01-01T00:00:00Z",
        },
    )
    run(
        version,
        i={
            "dataset": "d",
            "version": "v2",
            "digest": HOSTILE["licence"],
            "derivedFrom": [{"fromId": "datasetVersion:d:v1", "transform": HOSTILE["transform"]}],
            "createdAt": "2026-01-02T00:00:00Z",
        },
    )
    run(
        "mutation($i: RegisterSliceInput!) { registerSlice(input: $i) { slice { id } } }",
        i={"datasetVersionId": "datasetVersion:d:v2", "name": "train", "predicate": HOSTILE["predicate"]},
    )
    run(
        "mutation($i: RegisterRunInput!) { registerRun(input: $i) { run { id } } }",
        i={
            "key": "r",
            "kind": "TRAIN",
            "startedAt": "2026-01-03T00:00:00Z",
            "params": [{"key": "css", "value": HOSTILE["param"]}],
            "code": {"repo": HOSTILE["uri"], "commit": "abc123"},
            "inputs": [{"id": "slice:d:v2:train", "role": "TRAIN"}],
        },
    )
    run(
        "mutation($i: RegisterModelInput!) { registerModel(input: $i) { model { id } } }",
        i={"name": "m", "description": HOSTILE["model description"]},
    )
    run(
        "mutation($i: RegisterModelVersionInput!) { registerModelVersion(input: $i) { modelVersion { id } } }",
        i={
            "model": "m",
            "artifactUri": "s3://m/1",
            "trainedBy": "run:r",
            "createdAt": "2026-01-04T00:00:00Z",
        },
    )
    run(
        "mutation($i: TransitionStageInput!) { transitionStage(input: $i) { events { id } } }",
        i={"modelVersionId": "modelVersion:m:1", "stage": "STAGING", "reason": HOSTILE["reason"]},
    )


def test_hostile_values_come_out_as_text_in_html_and_pdf(
    client: TestClient, gql: GraphQL, tmp_path: Path
) -> None:
    send_hostile(gql)
    response = client.get("/v1/export/dossier/modelVersion:m:1")
    assert response.status_code == 200, response.text
    body = response.text
    page = DossierPage(body)
    assert {tag for tag, _ in page.elements} <= ALLOWED
    assert sum(1 for tag, _ in page.elements if tag == "style") == 1  # the dossier's own stylesheet only
    for tag, attrs in page.elements:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name == "href":
                assert value is not None and value.startswith("#"), (tag, value)  # contents links only
            assert "javascript:" not in (value or "")
    assert "<script" not in body.lower() and "<img" not in body.lower()
    for what, value in HOSTILE.items():
        if what != "source description":  # sources' descriptions are not part of the dossier
            assert value in page.text, what  # shown as the text it is
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body
    # The PDF shows it as text too (pdftotext reads back what was drawn).
    pdf = client.get("/v1/export/dossier/modelVersion:m:1", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    (tmp_path / "m.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "m.pdf"), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "<b>bold</b> & <i>italic</i>" in text
    assert "<style>body{display:none}</style>" in text


def test_an_excluded_source_with_its_impact(client: TestClient, gql: GraphQL) -> None:
    load_story(gql)
    data(
        gql(
            'mutation { excludeSource(input: {sourceId: "source:forum", reason: "terms changed", '
            'at: "2026-06-20T00:00:00Z"}) { created } }'
        )
    )
    gatherer: Gatherer = client.app.state.services.documents.gatherer  # type: ignore[attr-defined]
    graph: ModelVersionProvenance = client.portal.call(
        gatherer.model_version, "modelVersion:assistant:1", None, None
    )  # type: ignore[union-attr]
    impact = graph.exclusions[0].impact
    page = DossierPage(client.get("/v1/export/dossier/modelVersion:assistant:1").text)
    facts = page.facts["Impact of excluding forum"]
    assert (facts["Source"], facts["Reason"], facts["Excluded (effective)"]) == (
        "source:forum",
        "terms changed",
        "2026-06-20 00:00:00 UTC",
    )
    assert (
        facts["Dataset versions affected"]
        == "\n".join(impact.dataset_version_ids)
        == "datasetVersion:forum:v1"
    )
    assert facts["Runs affected"] == "\n".join(impact.run_ids)
    assert facts["Inferences served by affected versions"] == f"{impact.inferences:,}"
    affected = page.grids["Model versions affected by excluding forum"]
    assert [r[0].split(" ")[0] for r in affected.rows] == impact.model_version_ids
    assert (
        affected.row("modelVersion:assistant:1")["Model version"] == "modelVersion:assistant:1 (this version)"
    )
    for mv in impact.model_version_ids:
        assert affected.row(mv)["Inferences up to the date"] == f"{impact.inference_counts.get(mv, 0):,}"
    assert page.grids["Sources"].row("source:forum")["Status as of the date"] == (
        "EXCLUDED since 2026-06-20 00:00:00 UTC: terms changed"
    )
    assert page.facts[None]["Excluded sources it depends on"] == "1"
    # the picture marks it: Graphviz's node for source:forum carries the word EXCLUDED
    labels = page.svg_texts
    at = labels.index("forum")
    assert labels[at - 1 : at + 2] == ["Source", "forum", "EXCLUDED"]
    assert labels.count("EXCLUDED") == 1
    # before the exclusion took effect, nothing was excluded
    before = DossierPage(
        client.get(
            "/v1/export/dossier/modelVersion:assistant:1", params={"asOf": "2026-06-01T00:00:00Z"}
        ).text
    )
    assert (
        "No source this version came from was excluded as of 2026-06-01 00:00:00 UTC."
        in before.sections["exclusions"]
    )
    assert "EXCLUDED" not in before.svg_texts and "forum" in before.svg_texts
    assert before.grids["Sources"].row("source:forum")["Status as of the date"] == "in use"


def test_at_a_known_at_before_the_version_was_recorded(client: TestClient, gql: GraphQL) -> None:
    load_story(gql)
    early = datetime(2000, 1, 1, tzinfo=UTC).isoformat()
    response = client.get("/v1/export/dossier/modelVersion:base:1", params={"knownAt": early})
    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == ("NOT_FOUND", "id")
