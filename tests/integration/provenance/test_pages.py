"""The lists inside reports, traces, consumer lists, histories and comparisons come a page at a time:
walking the pages with `first`/`after` gives every item once, in order, and matches the *Count fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import GraphQL
from helpers import data, error
from story import Story

StoryFixture = tuple[GraphQL, Story]


def walk(fetch: Callable[[str | None], list[Any]], key: Callable[[Any], str]) -> list[Any]:
    """Every item of a paged list, one item per page."""
    items: list[Any] = []
    after = None
    while True:
        page = fetch(after)
        assert len(page) <= 1
        if not page:
            return items
        items += page
        after = key(page[0])


def test_impact_report_lists_page_through_every_item(story: StoryFixture) -> None:
    send, _ = story
    whole = data(
        send(
            """{ impactReport(sourceId: "source:crawl") { datasetVersionCount sliceCount runCount modelVersionCount
                 datasetVersions { id } slices { id } runs { id } modelVersions { modelVersion { id } } } }"""
        )
    )["impactReport"]
    for field, count in (
        ("datasetVersions", "datasetVersionCount"),
        ("slices", "sliceCount"),
        ("runs", "runCount"),
    ):

        def fetch(after: str | None, field: str = field) -> list[Any]:
            page = data(
                send(
                    f"""query($a: String) {{ impactReport(sourceId: "source:crawl") {{
                         {field}(first: 1, after: $a) {{ id }} }} }}""",
                    {"a": after},
                )
            )["impactReport"][field]
            return list(page)

        walked = walk(fetch, lambda item: item["id"])
        assert walked == whole[field]
        assert len(walked) == whole[count] > 0
    versions = walk(
        lambda after: data(
            send(
                """query($a: String) { impactReport(sourceId: "source:crawl") {
                     modelVersions(first: 1, after: $a) { modelVersion { id } stage } } }""",
                {"a": after},
            )
        )["impactReport"]["modelVersions"],
        lambda item: item["modelVersion"]["id"],
    )
    assert [v["modelVersion"] for v in versions] == [m["modelVersion"] for m in whole["modelVersions"]]
    assert len(versions) == whole["modelVersionCount"] > 1


def test_trace_lists_page_and_count(story: StoryFixture) -> None:
    send, _ = story
    whole = data(
        send(
            """{ traceInference(inferenceId: "inference:inf-chat") { runCount datasetVersionCount sliceCount
                 sourceCount edgeCount runs { id } datasetVersions { id } sources { id } edges { fromId type toId } } }"""
        )
    )["traceInference"]
    assert whole["datasetVersionCount"] == len(whole["datasetVersions"]) > 3
    walked = walk(
        lambda after: data(
            send(
                """query($a: String) { traceInference(inferenceId: "inference:inf-chat") {
                     datasetVersions(first: 1, after: $a) { id } } }""",
                {"a": after},
            )
        )["traceInference"]["datasetVersions"],
        lambda item: item["id"],
    )
    assert walked == whole["datasetVersions"]
    edges = walk(
        lambda after: data(
            send(
                """query($a: String) { traceInference(inferenceId: "inference:inf-chat") {
                     edges(first: 1, after: $a) { fromId type toId } } }""",
                {"a": after},
            )
        )["traceInference"]["edges"],
        lambda e: f"{e['fromId']}|{e['type']}|{e['toId']}",
    )
    assert edges == whole["edges"] and len(edges) == whole["edgeCount"]


def test_consumers_and_history_page(story: StoryFixture) -> None:
    send, told = story
    version = told.corpus_versions[0]
    whole = data(
        send(f'{{ consumers(datasetVersionId: "{version}") {{ runCount runs {{ run {{ id }} direct }} }} }}')
    )["consumers"]
    walked = walk(
        lambda after: data(
            send(
                f"""query($a: String) {{ consumers(datasetVersionId: "{version}") {{
                      runs(first: 1, after: $a) {{ run {{ id }} direct }} }} }}""",
                {"a": after},
            )
        )["consumers"]["runs"],
        lambda item: item["run"]["id"],
    )
    assert walked == whole["runs"] and len(walked) == whole["runCount"] > 0
    history = data(send('{ model(id: "model:base") { history { id seq } } }'))["model"]["history"]
    pages = walk(
        lambda after: data(
            send(
                'query($a: String) { model(id: "model:base") { history(first: 1, after: $a) { id seq } } }',
                {"a": after},
            )
        )["model"]["history"],
        lambda e: e["id"],
    )
    assert pages == history and [e["seq"] for e in pages] == list(range(1, len(pages) + 1))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ('{ impactReport(sourceId: "source:crawl") { runs(first: 0) { id } } }', "first"),
        ('{ impactReport(sourceId: "source:crawl") { runs(first: 501) { id } } }', "first"),
        (
            '{ impactReport(sourceId: "source:crawl") { runs(after: "run:not-in-this-report") { id } } }',
            "after",
        ),
        ('{ model(id: "model:base") { history(after: "event:other:1") { id } } }', "after"),
    ],
)
def test_bad_page_arguments(story: StoryFixture, query: str, field: str) -> None:
    send, _ = story
    refused = error(send(query))
    assert (refused["extensions"]["code"], refused["extensions"]["field"]) == ("INVALID_ARGUMENT", field)
