"""The dossier of the demo story (`make run` loads it): the support assistant, fine-tuned on a forum
scrape that was later excluded, and sentiment version 2, promoted and rolled back; and the PDF, turned
into pictures of its pages with poppler's pdftoppm and read back with pdftotext."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from neo4j import Driver
from PIL import Image
from starlette.testclient import TestClient

from conftest import WIPE
from dossier_pages import DossierPage
from provgraph.config import Settings
from provgraph.demo import load_demo
from provgraph.service.documents.gather import Gatherer, ModelVersionProvenance

ASSISTANT = "modelVersion:support-assistant:1"
DEPLOYMENTS = "Deployments (intervals during which an endpoint served this version)"


@pytest.fixture(scope="module")
def demo(client: TestClient, driver: Driver, settings: Settings) -> Iterator[None]:
    driver.execute_query(WIPE, database_="neo4j")
    asyncio.run(load_demo(settings))
    yield


def gathered(client: TestClient, version: str, as_of: datetime | None = None) -> ModelVersionProvenance:
    gatherer: Gatherer = client.app.state.services.documents.gatherer  # type: ignore[attr-defined]
    found: ModelVersionProvenance = client.portal.call(gatherer.model_version, version, as_of, None)  # type: ignore[union-attr]
    return found


def test_the_assistant_its_data_its_serving_and_the_excluded_forum(client: TestClient, demo: None) -> None:
    graph = gathered(client, ASSISTANT)
    page = DossierPage(client.get(f"/v1/export/dossier/{ASSISTANT}").text)
    data = page.grids["Every dataset version and slice this version came from"]
    # the base model's data (reviews, tickets) and its own (the forum), every row with its recorded digest
    assert sorted(data.column("Data")) == sorted(d.id for d in [*graph.dataset_versions, *graph.slices])
    for version in graph.dataset_versions:
        assert data.row(version.id)["Digest"] == version.digest and version.digest
        assert data.row(version.id)["Location"] == version.uri
    assert data.row("datasetVersion:forum:v1")["Sources — licence"] == "forum-scrape — forum-tos-2025"
    assert data.row("slice:reviews:v3:train")["Derived from / selected by"] == "predicate: hash(id) % 10 < 8"
    assert (
        "acme-reviews — CC-BY-4.0 (via lineage)" in data.row("datasetVersion:reviews:v3")["Sources — licence"]
    )
    licences = {s.id: s.license for s in graph.sources}
    assert {r[0]: r[4] for r in page.grids["Sources"].rows} == licences
    # the exclusion and its impact
    forum = page.facts["Impact of excluding forum-scrape"]
    assert forum["Reason"] == "forum terms of service no longer allow ML training"
    impact = graph.exclusions[0].impact
    affected = page.grids["Model versions affected by excluding forum-scrape"]
    assert affected.rows == [
        [mv + (" (this version)" if mv == ASSISTANT else ""), f"{impact.inference_counts.get(mv, 0):,}"]
        for mv in impact.model_version_ids
    ]
    assert affected.row(ASSISTANT)["Inferences up to the date"] == "4"  # the support bot's four
    assert "EXCLUDED" in page.svg_texts and "forum-scrape" in page.svg_texts
    # served by the support bot from 15 March, still serving
    deployments = page.grids[DEPLOYMENTS]
    assert [(r[1], r[2], r[6]) for r in deployments.rows] == [
        ("endpoint:support-bot", "2026-03-15 09:00:00 UTC", "4")
    ]
    assert sum(s.inferences for s in graph.deployments) == 4
    # the licences are all recorded in the demo; the intended purpose never is
    assert (
        "source licences" in page.facts["What the graph holds in full"]["Recorded for every record concerned"]
    )
    gaps = {r[1] for r in page.grids["What the headings ask for and the graph does not hold"].rows}
    assert {"intended purpose", "labelling procedures", "data cleaning methodology"} <= gaps
    assert "source licences" not in gaps and "content digests" in gaps  # the slices carry no digest


def test_sentiment_2_before_its_promotion_to_production(client: TestClient, demo: None) -> None:
    before = datetime(2026, 4, 25, tzinfo=UTC)  # staging since 15 April; the 10% canary since 20 April
    page = DossierPage(
        client.get("/v1/export/dossier/modelVersion:sentiment:2", params={"asOf": before.isoformat()}).text
    )
    assert page.facts[None]["Stage then"] == "STAGING"
    assert page.facts[None]["Aliases then"] == "none"  # champion moved to it on 1 May
    history = page.grids["Registry events of modelVersion:sentiment:2 up to the date"]
    assert history.column("Change") == ["registered", "stage NONE → STAGING"]
    assert history.column("Reason")[1] == "offline eval passed (val_f1 0.93)"
    rows = page.grids[DEPLOYMENTS].rows
    assert len(rows) == 1  # the canary only: the full rollout of 1 May had not happened
    assert rows[0][2:5] == ["2026-04-20 09:00:00 UTC", "still serving on 2026-04-25 00:00:00 UTC", "10%"]
    now = DossierPage(client.get("/v1/export/dossier/modelVersion:sentiment:2").text)
    assert now.facts[None]["Stage then"] == "PRODUCTION"
    assert [r[2] for r in now.grids[DEPLOYMENTS].rows] == [
        "2026-04-20 09:00:00 UTC",
        "2026-05-01 09:00:00 UTC",
    ]
    assert now.grids[DEPLOYMENTS].rows[1][3] == "2026-05-05 09:00:00 UTC"  # rolled back
    assert "end: rollback: latency regression" in now.grids[DEPLOYMENTS].rows[1][5]


def test_the_pdf_renders_every_page_with_its_footer(client: TestClient, demo: None, tmp_path: Path) -> None:
    response = client.get(f"/v1/export/dossier/{ASSISTANT}", params={"format": "pdf"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert (
        'filename="modelVersion-support-assistant-1.dossier.pdf"' in response.headers["content-disposition"]
    )
    pdf = tmp_path / "dossier.pdf"
    pdf.write_bytes(response.content)
    # page 1 as a picture: A4 at 50 dpi, and not blank
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True
    )
    (png,) = tmp_path.glob("page*.png")
    with Image.open(png) as image:
        assert image.format == "PNG"
        width, height = image.size  # 210 × 297 mm at 50 dpi is 413.4 × 584.6 px; pdftoppm rounds
        assert abs(width - 413) <= 1 and abs(height - 585) <= 1
        grey = image.convert("L")
        histogram = grey.histogram()
        dark = sum(histogram[:200])  # pixels with ink on them
        assert 0.01 < dark / (grey.width * grey.height) < 0.5
        assert grey.getextrema()[0] < 60  # real text, not a faint tint
    # every page says what it describes, both times, and its number
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages >= 8  # a title page and one or more pages per section
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    printed = text.split("\f")[:pages]
    for number, content in enumerate(printed, start=1):
        assert f"{ASSISTANT} · as of " in content and " · known at " in content, number
        assert f"page {number} of {pages}" in content
    assert "Technical documentation: support-assistant\nversion 1" in printed[0]  # the title wraps
    assert any("2. Lineage" in p and "EXCLUDED" in p for p in printed)
