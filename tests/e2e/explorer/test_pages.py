"""Every page of the explorer on the demo story, in a real Chromium: what is drawn, not how."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from bench.explorer import Lineages

from .conftest import ARTIFACTS, Explorer

pytestmark = pytest.mark.browser


def test_search_finds_nodes_by_name_or_id(signed_in: Explorer) -> None:
    page = signed_in.page
    page.fill("input[name=text]", "sentim 2")
    page.click("form.controls button[type=submit]")
    page.wait_for_selector("table.results")
    assert "text=sentim+2" in page.url  # the search is a shareable URL
    assert page.locator("tr[data-id='modelVersion:sentiment:2']").count() == 1
    assert (
        page.locator("tr[data-id='modelVersion:sentiment:2'] a", has_text="timeline & compare").count() == 1
    )

    signed_in.open("#/search?text=crawl&kinds=Source")
    page.wait_for_selector("table.results")
    ids = page.locator("table.results tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.id)")
    assert set(ids) == {"source:web-crawl-2026", "source:forum-scrape"}
    signed_in.shot("search")

    signed_in.open("#/search?text=nothing-like-this")
    page.wait_for_selector("p.empty")


def test_lineage_draws_the_layered_graph_with_its_marks(signed_in: Explorer) -> None:
    page = signed_in.page
    signed_in.open(
        "#/lineage/" + quote("modelVersion:support-assistant:1", safe="") + "?direction=UPSTREAM&depth=10"
    )
    signed_in.wait_for_graph()
    nodes = signed_in.nodes()
    # Everything the assistant came from, through the fine-tuning base, down to its four sources.
    for node_id in (
        "modelVersion:sentiment:1",
        "run:support-finetune-0225",
        "datasetVersion:forum:v1",
        "slice:reviews:v3:train",
        "source:forum-scrape",
        "source:acme-reviews",
        "source:web-crawl-2026",
        "source:support-tickets",
    ):
        assert node_id in nodes, node_id
    start = nodes["modelVersion:support-assistant:1"]
    assert {"start", "production"} <= set(start["classes"]) and "PRODUCTION" in start["label"]
    excluded = nodes["source:forum-scrape"]
    assert "excluded" in excluded["classes"] and "EXCLUDED" in excluded["label"]
    assert "excluded" not in nodes["source:acme-reviews"]["classes"]
    assert "production" not in nodes["modelVersion:sentiment:1"]["classes"]  # archived now
    # Layered: what something came from is drawn above it.
    assert nodes["source:acme-reviews"]["y"] < nodes["datasetVersion:reviews:v1"]["y"] < start["y"]
    assert nodes["run:sentiment-train-0205"]["y"] < nodes["modelVersion:sentiment:1"]["y"] < start["y"]
    edges = signed_in.edges()
    assert "modelVersion:support-assistant:1|FINE_TUNED_FROM|modelVersion:sentiment:1" in edges
    assert page.locator(".status .partial").count() == 0
    # The start node's properties are in the side panel.
    assert page.locator("aside.panel[data-node='modelVersion:support-assistant:1']").count() == 1
    signed_in.shot("lineage")

    # A click shows a node's properties; a run's code and environment are fetched for the panel.
    signed_in.click_node("run:sentiment-train-0205")
    panel = page.locator("aside.panel[data-node='run:sentiment-train-0205']")
    panel.wait_for()
    page.wait_for_selector("aside.panel h4:has-text('Environment')")
    assert "e1f2a3b" in panel.inner_text()  # the commit

    # Expanding the dataset version adds what else came from it (the test slice, the other training run).
    before = len(signed_in.nodes())
    signed_in.click_node("datasetVersion:reviews:v3")
    page.click("aside.panel button.expand")
    page.wait_for_selector(".status .note:has-text('Expanded datasetVersion:reviews:v3')")
    signed_in.wait_for_graph()
    after = signed_in.nodes()
    assert "slice:reviews:v3:test" in after and len(after) > before
    assert "expanded" in after["datasetVersion:reviews:v3"]["classes"]


def test_lineage_filters_by_time_and_type_and_says_when_it_is_cut(signed_in: Explorer) -> None:
    page = signed_in.page
    # As of 20 March the first sentiment version was in production (it is archived now).
    base = "#/lineage/" + quote("source:acme-reviews", safe="") + "?direction=DOWNSTREAM&depth=25"
    signed_in.open(base + "&asOf=2026-03-20")
    signed_in.wait_for_graph()
    then = signed_in.nodes()
    assert "production" in then["modelVersion:sentiment:1"]["classes"]
    assert page.input_value("input[name=asOf]") == "2026-03-20"
    signed_in.open(base)
    signed_in.wait_for_graph()
    assert "production" not in signed_in.nodes()["modelVersion:sentiment:1"]["classes"]

    signed_in.open(base + "&types=ModelVersion,Source")
    signed_in.wait_for_graph()
    kinds = {node_id.split(":")[0] for node_id in signed_in.nodes()}
    assert kinds == {"modelVersion", "source"}

    signed_in.open("#/lineage/" + quote("modelVersion:support-assistant:1", safe="") + "?depth=1")
    signed_in.wait_for_graph()
    assert page.locator(".status .partial").count() == 1  # isPartial: the depth limit cut it

    # Experiments have no query of their own: the start is drawn from its id, its runs around it.
    signed_in.open("#/lineage/" + quote("experiment:sentiment", safe="") + "?direction=DOWNSTREAM&depth=1")
    signed_in.wait_for_graph()
    assert {"experiment:sentiment", "run:sentiment-train-0205", "run:sentiment-train-0410"} <= set(
        signed_in.nodes()
    )


def test_uses_of_a_source_highlights_each_answers_paths(signed_in: Explorer) -> None:
    page = signed_in.page
    signed_in.open("#/uses/" + quote("source:web-crawl-2026", safe=""))
    signed_in.wait_for_graph()
    answers = page.locator("ol.answers li").evaluate_all("(items) => items.map((i) => i.dataset.id)")
    assert answers == [
        "modelVersion:sentiment:1",
        "modelVersion:sentiment:2",
        "modelVersion:support-assistant:1",
    ]
    assert "2 paths" not in page.locator("ol.answers li").first.inner_text()

    def highlighted() -> tuple[set[str], set[str]]:
        nodes = {i for i, n in signed_in.nodes().items() if "highlight" in n["classes"]}
        edges = {i for i, e in signed_in.edges().items() if "highlight" in e["classes"]}
        return nodes, edges

    # The first answer is chosen: its paths, from the version to the source, are highlighted; the rest dimmed.
    nodes, edges = highlighted()
    assert {
        "modelVersion:sentiment:1",
        "run:sentiment-train-0205",
        "datasetVersion:reviews:v1",
        "source:web-crawl-2026",
    } <= nodes
    assert "modelVersion:sentiment:2" not in nodes and "run:sentiment-train-0410" not in nodes
    assert "modelVersion:sentiment:1|GENERATED_BY|run:sentiment-train-0205" in edges
    assert "datasetVersion:reviews:v1|FROM_SOURCE|source:web-crawl-2026" in edges
    assert "dim" in signed_in.nodes()["modelVersion:sentiment:2"]["classes"]

    # Choosing the assistant highlights its way through the fine-tuning base, and the URL says so.
    page.click("ol.answers li[data-id='modelVersion:support-assistant:1']")
    nodes, edges = highlighted()
    assert "modelVersion:support-assistant:1|FINE_TUNED_FROM|modelVersion:sentiment:1" in edges
    assert "answer=modelVersion%3Asupport-assistant%3A1" in page.url
    assert page.locator("aside.panel ol.paths li").count() >= 1
    signed_in.shot("uses")

    # With a stage and a date: on 1 March no production version had used the forum scrape yet.
    signed_in.open("#/uses/" + quote("source:forum-scrape", safe="") + "?stage=PRODUCTION&asOf=2026-03-01")
    page.wait_for_selector("p.empty")
    assert "0 model versions in PRODUCTION as of 2026-03-01" in page.inner_text("p.headline")


def test_trace_draws_an_inference_back_to_its_sources(signed_in: Explorer) -> None:
    page = signed_in.page
    signed_in.open("#/trace/" + quote("inference:demo-support-16-03", safe=""))
    signed_in.wait_for_graph()
    nodes = signed_in.nodes()
    chain = [
        "inference:demo-support-16-03",
        "deployment:support-bot:1",
        "modelVersion:support-assistant:1",
        "run:support-finetune-0225",
        "datasetVersion:forum:v1",
        "source:forum-scrape",
    ]
    for node_id in chain:
        assert node_id in nodes, node_id
    assert "modelVersion:sentiment:1" in nodes  # the fine-tuning base and, through it, its data
    assert "source:acme-reviews" in nodes
    assert "start" in nodes["inference:demo-support-16-03"]["classes"]
    assert "excluded" in nodes["source:forum-scrape"]["classes"]
    edges = signed_in.edges()
    assert "inference:demo-support-16-03|SERVED_BY|deployment:support-bot:1" in edges
    assert "deployment:support-bot:1|OF|modelVersion:support-assistant:1" in edges
    # Drawn bottom to top: inference, deployment, version, run, data, source.
    ys = [nodes[i]["y"] for i in chain]
    assert ys == sorted(ys, reverse=True)
    text = page.inner_text("ol.chain")
    assert "support-assistant #1" in text and "1 excluded: forum-scrape" in text
    assert page.locator("section.run[data-id='run:support-finetune-0225']").count() == 1
    signed_in.shot("trace")


def test_impact_report_prints_as_a_document(signed_in: Explorer) -> None:
    page = signed_in.page
    signed_in.open("#/impact/" + quote("source:forum-scrape", safe=""))
    page.wait_for_selector("article.report")
    assert "Excluded 2026-06-15" in page.inner_text("article.report .mark.excluded")
    row = page.locator("table.model-versions tbody tr")
    assert (
        row.count() == 1 and "support-assistant #1" in row.inner_text() and "PRODUCTION" in row.inner_text()
    )
    assert "support-bot" in page.inner_text("table.deployments")
    assert "run:support-finetune-0225" in page.inner_text("table.runs")
    assert "datasetVersion:forum:v1" in page.inner_text("table.dataset-versions")
    signed_in.shot("impact")

    # Printed: no navigation or forms, the report and how to reproduce it.
    page.emulate_media(media="print")
    assert not page.locator("header.bar").is_visible()
    assert not page.locator("form.controls").is_visible()
    assert page.locator("article.report").is_visible()
    assert page.locator(".print-only.url").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "impact-report.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert Path(pdf).read_bytes()[:5] == b"%PDF-"
    signed_in.shot("impact-print")

    # As of 1 March the assistant was only in staging, and nothing was deployed yet.
    page.emulate_media(media="screen")
    signed_in.open("#/impact/" + quote("source:forum-scrape", safe="") + "?asOf=2026-03-10")
    page.wait_for_selector("article.report")
    assert "STAGING" in page.inner_text("table.model-versions")
    assert "None at this time." in page.inner_text("article.report")


def test_model_version_timelines_and_compare(signed_in: Explorer) -> None:
    page = signed_in.page
    signed_in.open("#/model-version/" + quote("modelVersion:sentiment:2", safe=""))
    page.wait_for_selector("ol.registry-timeline")
    events = page.locator("ol.registry-timeline li")
    assert events.evaluate_all("(items) => items.map((i) => i.dataset.kind)") == [
        "REGISTERED",
        "STAGE_CHANGED",
        "STAGE_CHANGED",
        "ALIAS_SET",
    ]
    text = page.inner_text("ol.registry-timeline")
    assert "stage STAGING → PRODUCTION" in text and "canary healthy" in text and "by demo-loader" in text
    assert "alias @champion set (moved from sentiment #1)" in text

    # The sentiment API's deployments: the canary beside version 1, the rollout, the rollback.
    marks = page.locator("table.deployments tbody tr").evaluate_all(
        "(rows) => Object.fromEntries(rows.map((r) => [r.dataset.id, [...r.querySelectorAll('.tag')].map((t) => t.textContent)]))"
    )
    assert marks["deployment:sentiment-api:3"] == ["canary"]
    assert marks["deployment:sentiment-api:5"] == ["rollback", "live"]
    assert marks["deployment:sentiment-api:4"] == []
    assert page.locator("svg.timeline rect.bar.canary").count() == 2
    assert page.locator("svg.timeline rect.bar.rollback").count() == 1

    # Side by side with version 1: chosen from the model's versions, part of the URL.
    page.select_option("select[name=compare]", "modelVersion:sentiment:1")
    page.wait_for_selector("table.compare")
    assert "compare=modelVersion%3Asentiment%3A1" in page.url
    rows = page.locator("table.compare tbody tr").evaluate_all(
        "(rows) => Object.fromEntries(rows.map((r) => [r.dataset.key, [...r.querySelectorAll('td')].slice(1).map((c) => c.textContent)]))"
    )
    assert rows["parameter:lr"] == ["2e-5", "3e-5"]
    assert rows["metric:val_f1"] == ["0.93", "0.91"]
    assert rows["code:commit"] == ["9d8c7b6", "e1f2a3b"]
    assert rows["environment:frameworkVersion"] == ["2.6.0", "2.5.1"]
    assert "datasetVersion:reviews:v3" in page.inner_text("section.data.both")
    signed_in.shot("model-version")


def test_a_large_lineage_is_drawn_a_page_at_a_time(signed_in: Explorer) -> None:
    """2,600 nodes: the first 2,000 (four requests of 500) are drawn at once, the rest on request. The
    demo story is small, so this lineage is synthetic (bench/explorer.py's generator), answered in the
    browser; the pages, scripts and every other request are the real service's."""
    lineages = Lineages(2_600)
    signed_in.page.route(signed_in.base + "/graphql", lineages.answer_graphql)
    signed_in.open("#/lineage/" + quote("source:start", safe="") + "?direction=DOWNSTREAM&depth=25")
    signed_in.wait_for_graph()
    page = signed_in.page
    assert page.get_attribute("#graph", "data-nodes") == "2001"
    assert lineages.requests == 4
    assert "Showing 2000 of 2600" in page.inner_text(".status")
    page.click(".status button.more")
    page.wait_for_selector("#graph[data-ready=true][data-nodes='2601']")
    assert lineages.requests == 6
    assert page.locator(".status button.more").count() == 0
    # Still interactive: a click on one of them shows its properties.
    signed_in.click_node("source:source-00003")
    page.wait_for_selector("aside.panel[data-node='source:source-00003']")
