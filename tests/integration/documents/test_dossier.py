"""The dossier of the test story's versions, read back and compared with what the gatherer draws from the
graph: every dataset version and slice, source, run, registry event and deployment, and "not recorded"
wherever the story left a fact out (it records no digests, licences or reasons for most changes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from conftest import GraphQL
from dossier_pages import DossierPage
from helpers import data
from provgraph.service.documents.gather import Gatherer, ModelVersionProvenance
from story import Story, T

StoryFixture = tuple[GraphQL, Story]
AS_OF = datetime(2026, 8, 1, tzinfo=UTC)
NR = "not recorded"
DATA = "Every dataset version and slice this version came from"


def gathered(client: TestClient, version: str, as_of: datetime) -> ModelVersionProvenance:
    gatherer: Gatherer = client.app.state.services.documents.gatherer  # type: ignore[attr-defined]
    found: ModelVersionProvenance = client.portal.call(gatherer.model_version, version, as_of, None)  # type: ignore[union-attr]
    return found


def dossier(client: TestClient, version: str, as_of: datetime) -> DossierPage:
    response = client.get(f"/v1/export/dossier/{version}", params={"asOf": as_of.isoformat()})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="{version.replace(":", "-")}.dossier.html"'
    )
    return DossierPage(response.text)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def test_every_dataset_version_slice_and_source_with_digest_and_licence(
    client: TestClient, story: StoryFixture
) -> None:
    graph = gathered(client, "modelVersion:assistant:1", AS_OF)
    page = dossier(client, "modelVersion:assistant:1", AS_OF)
    table = page.grids[DATA]
    expected = sorted(d.id for d in [*graph.dataset_versions, *graph.slices])
    assert sorted(table.column("Data")) == expected
    assert len(expected) == 10  # corpus v1–v6, labels v1, forum v1, two slices of corpus v6
    for d in [*graph.dataset_versions, *graph.slices]:
        row = table.row(d.id)
        assert row["Digest"] == (d.digest or NR)
        assert row["Rows"] == (f"{d.row_count:,}" if d.row_count is not None else NR)
        for source_id in d.source_ids:  # its own sources, named with their licence
            source = next(s for s in graph.sources if s.id == source_id)
            assert f"{source.name} — {source.license or 'licence not recorded'}" in row["Sources — licence"]
    # corpus v6 came from the crawl through five derivations: named, and marked as reached through lineage
    assert (
        table.row("datasetVersion:corpus:v6")["Sources — licence"]
        == "crawl — licence not recorded (via lineage)"
    )
    assert (
        table.row("datasetVersion:corpus:v3")["Derived from / selected by"]
        == "datasetVersion:corpus:v2 — step 3"
    )
    assert table.row("slice:corpus:v6:train")["Used by (role)"] == "run:base-train (train)"
    sources = page.grids["Sources"]
    assert (
        sorted(sources.column("Source"))
        == sorted(s.id for s in graph.sources)
        == [
            "source:crawl",
            "source:forum",
            "source:vendor",
        ]
    )
    for s in graph.sources:
        assert sources.row(s.id)["Kind"] == s.kind
        assert sources.row(s.id)["Licence"] == (s.license or NR)


def test_runs_with_code_environment_params_and_metrics(client: TestClient, story: StoryFixture) -> None:
    graph = gathered(client, "modelVersion:assistant:1", AS_OF)
    page = dossier(client, "modelVersion:assistant:1", AS_OF)
    titles = [t for t in page.facts if t and t.startswith("run:")]
    assert titles[0] == "run:ft — trained this version"  # the version's own run comes first
    assert sorted(t.split(" ")[0] for t in titles) == sorted(r.id for r in graph.runs)
    for run in graph.runs:
        facts = next(page.facts[t] for t in titles if t.startswith(run.id + " "))
        assert facts["Code commit"] == (run.code.commit or NR)
        assert facts["Code repository"] == (run.code.repo or NR)
        assert facts["Parameters"] == ("\n".join(f"{k} = {v}" for k, v in sorted(run.params.items())) or NR)
        assert facts["Metrics"] == ("\n".join(f"{k} = {v:g}" for k, v in sorted(run.metrics.items())) or NR)
        assert facts["Python"] == (run.environment.python or NR)
    base = next(page.facts[t] for t in titles if t.startswith("run:base-train "))
    assert (base["Code commit"], base["Parameters"], base["Framework"]) == (
        "a1b2c3",
        "epochs = 3\nlr = 0.001",
        "torch 2.5.1",
    )
    assert "modelVersion:base:1" in base["Outputs"]


def test_registry_history_with_actors_reasons_and_the_audit_result(
    client: TestClient, story: StoryFixture
) -> None:
    graph = gathered(client, "modelVersion:base:1", AS_OF)
    page = dossier(client, "modelVersion:base:1", AS_OF)
    history = page.grids["Registry events of modelVersion:base:1 up to the date"]
    assert len(history.rows) == len(graph.history) == 5  # registered, staging, production, alias, archived
    for event, row in zip(sorted(graph.history, key=lambda e: (e.at, e.seq)), history.rows, strict=True):
        cells = dict(zip(history.columns, row, strict=True))
        assert (cells["#"], cells["Actor"], cells["Reason"]) == (
            str(event.seq),
            event.actor,
            event.reason or NR,
        )
        assert cells["Effective"] == stamp(event.at)
    changes = history.column("Change")
    assert "stage STAGING → PRODUCTION" in changes and "alias champion set" in changes
    production = next(r for r in history.rows if r[2] == "stage STAGING → PRODUCTION")
    assert production[4] == "approved by risk"
    assert history.column("Actor") == ["test-admin"] * 5
    audit = page.facts["Audit-chain verification (of the chain as stored when this document was generated)"]
    assert graph.audit.valid
    assert audit["Result"] == "verifies" and audit["Events checked"] == str(graph.audit.events)
    assert audit["Seals"] == "checked with the service's audit key"
    assert page.facts[None]["Registry audit chain"] == "verifies"


def test_deployment_intervals_and_inference_volume(client: TestClient, story: StoryFixture) -> None:
    graph = gathered(client, "modelVersion:base:1", AS_OF)
    page = dossier(client, "modelVersion:base:1", AS_OF)
    table = page.grids["Deployments (intervals during which an endpoint served this version)"]
    assert [r[0] for r in table.rows] == [s.deployment.id for s in graph.deployments]
    assert len(table.rows) == 2  # scoring T2–T6, and again from T7
    for served in graph.deployments:
        row = table.row(served.deployment.id)
        assert row["From"] == stamp(served.deployment.started_at)
        assert row["Inferences"] == f"{served.inferences:,}"
    first, again = (table.row(s.deployment.id) for s in graph.deployments)
    assert (first["Until"], first["Reasons"]) == (stamp(T["T6"]), "end: rollout v2")
    assert again["Until"] == f"still serving on {stamp(AS_OF)}"
    assert again["Inferences"] == "1"  # inf-rollback
    assert (
        f"1 inferences were logged against this version's deployments up to {stamp(AS_OF)}"
        in page.sections["serving"]
    )


def test_what_the_graph_does_not_hold_is_said_and_listed(client: TestClient, story: StoryFixture) -> None:
    send, _ = story
    page = dossier(client, "modelVersion:assistant:1", AS_OF)
    assert page.facts["Identity and versions"]["Intended purpose"] == NR
    assert page.facts["Identity and versions"]["Fine-tuned from"] == "modelVersion:base:1"
    gaps = page.grids["What the headings ask for and the graph does not hold"]
    listed = {(row[0], row[1]): row[2] for row in gaps.rows}
    assert listed[("Annex IV §1", "intended purpose")] == "all: the graph has no place for it"
    assert listed[("Annex IV §2(d)", "labelling procedures")] == "all: the graph has no place for it"
    assert listed[("Art. 10(2)", "source licences")] == "3 of 3: source:crawl, source:forum, source:vendor"
    assert listed[("Annex IV §2(d)", "content digests")].startswith("10 of 10: ")
    assert listed[("Annex IV §2", "training code commit")] == "1 of 2: run:ft"
    graph = gathered(client, "modelVersion:assistant:1", AS_OF)
    staging, production = (e.seq for e in graph.history if e.to_stage is not None)
    assert listed[("Annex IV §6", "reasons for registry changes")] == (
        f"2 of 2: #{staging} stage NONE → STAGING, #{production} stage STAGING → PRODUCTION"
    )
    assert page.facts[None]["Items not recorded"] == str(len({row[1] for row in gaps.rows}))
    assert page.text.count(NR) > 20
    # GraphQL carries the same list as the document's completeness
    body = data(
        send(
            'query($at: DateTime) { exportDocument(kind: DOSSIER, id: "modelVersion:assistant:1", asOf: $at) '
            "{ filename mediaType url text completeness { score present missing } } }",
            {"at": AS_OF.isoformat()},
        )
    )["exportDocument"]
    assert (body["filename"], body["mediaType"]) == ("modelVersion-assistant-1.dossier.html", "text/html")
    assert body["url"].startswith("/v1/export/dossier/modelVersion:assistant:1?format=html&asOf=")
    assert set(body["completeness"]["missing"]) == {row[1] for row in gaps.rows}
    assert "training code commit" in body["completeness"]["missing"]
    assert "hyperparameters" in body["completeness"]["missing"]  # run:ft recorded none
    assert "complete lineage" in body["completeness"]["present"]
    assert 0 < body["completeness"]["score"] < 1
    assert DossierPage(body["text"]).grids[DATA].rows == page.grids[DATA].rows


def test_as_of_before_a_promotion_shows_the_earlier_stage_and_no_later_deployment(
    client: TestClient, story: StoryFixture
) -> None:
    before = T["T3"] + timedelta(
        hours=12
    )  # assistant:1 is in staging; production and its deployment come at T4
    page = dossier(client, "modelVersion:assistant:1", before)
    assert page.facts[None]["Stage then"] == "STAGING"
    assert page.facts[None]["As of (the time described)"] == stamp(before)
    history = page.grids["Registry events of modelVersion:assistant:1 up to the date"]
    assert history.column("Change") == ["registered", "stage NONE → STAGING"]
    deployments = page.grids["Deployments (intervals during which an endpoint served this version)"]
    assert deployments.rows == [[f"This version was not deployed as of {stamp(before)}."]]
    later = dossier(client, "modelVersion:assistant:1", AS_OF)
    assert later.facts[None]["Stage then"] == "PRODUCTION"
    assert len(later.grids["Deployments (intervals during which an endpoint served this version)"].rows) == 1
    # base:1 as of T6 + 1 day: archived by base:2's promotion, its first deployment ended, not yet back
    base = dossier(client, "modelVersion:base:1", T["T6"] + timedelta(days=1))
    assert base.facts[None]["Stage then"] == "ARCHIVED"
    rows = base.grids["Deployments (intervals during which an endpoint served this version)"].rows
    assert len(rows) == 1 and rows[0][3] == stamp(T["T6"])


def test_an_end_after_the_date_had_not_happened_then(client: TestClient, story: StoryFixture) -> None:
    during = T["T6"] + timedelta(days=2)  # base:2 served scoring from T6 until T7: not yet ended then
    page = dossier(client, "modelVersion:base:2", during)
    row = page.grids["Deployments (intervals during which an endpoint served this version)"].rows[0]
    assert row[3] == f"still serving on {stamp(during)}"
    assert "rollback" not in row[5]
    after = dossier(client, "modelVersion:base:2", AS_OF)
    row = after.grids["Deployments (intervals during which an endpoint served this version)"].rows[0]
    assert (row[3], row[5]) == (stamp(T["T7"]), "end: rollback")


def test_every_printed_page_states_the_subject_and_both_times(
    client: TestClient, story: StoryFixture
) -> None:
    page = dossier(client, "modelVersion:assistant:1", AS_OF)
    html = client.get("/v1/export/dossier/modelVersion:assistant:1", params={"asOf": AS_OF.isoformat()}).text
    assert page.facts[None]["Known at (as recorded by)"] in html
    # the title page's stamp is what every printed page's footer repeats (string-set), and the print
    # stylesheet breaks pages before sections, keeps rows whole and numbers pages
    assert f'<p class="stamp">modelVersion:assistant:1 · as of {stamp(AS_OF)} · known at ' in html
    for rule in (
        "string-set: stamp content()",
        "content: string(stamp)",
        'counter(page) " of " counter(pages)',
        "@media print",
        "section { break-before: page; }",
        "tr, .note, figure, .facts-block { break-inside: avoid; }",
    ):
        assert rule in html


@pytest.mark.parametrize(
    ("path", "params", "status", "code", "field"),
    [
        ("source:crawl", {}, 400, "INVALID_ARGUMENT", "id"),  # a dossier is about a model version
        ("modelVersion:base:1", {"format": "docx"}, 400, "INVALID_ARGUMENT", "format"),
        ("modelVersion:base:1", {"answer": "lineage"}, 400, "INVALID_ARGUMENT", "answer"),
        (
            "modelVersion:base:1",
            {"asOf": "2026-01-01T00:00:00Z"},
            400,
            "INVALID_ARGUMENT",
            "asOf",
        ),  # before it existed
        ("modelVersion:base:1", {"asOf": "2026-08-01T00:00:00"}, 400, "INVALID_ARGUMENT", "asOf"),  # no zone
        ("modelVersion:nope:1", {}, 400, "NOT_FOUND", "id"),  # REST answers 400 for every caller error
        ("not-an-id", {}, 400, "INVALID_ARGUMENT", "id"),
    ],
)
def test_requests_it_refuses(
    client: TestClient,
    story: StoryFixture,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    response = client.get(f"/v1/export/dossier/{path}", params=params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)


def test_without_graphviz_the_error_names_it(
    client: TestClient, story: StoryFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # a server where Graphviz's dot is not installed
    response = client.get("/v1/export/dossier/modelVersion:base:1")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "UNAVAILABLE"
    assert "Graphviz" in error["message"] and "apt-get install graphviz" in error["message"]
