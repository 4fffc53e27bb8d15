"""Signing in and out, what the explorer shows when the API refuses, and GraphiQL with the token."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from conftest import Tokens
from provgraph.api.cost import request_cost
from provgraph.api.schema import build_schema

from .conftest import Explorer

pytestmark = pytest.mark.browser


def test_sign_in_refuses_a_bad_token_and_keeps_a_good_one_for_the_tab(explorer: Explorer) -> None:
    page = explorer.page
    explorer.open("")
    page.wait_for_selector("form.signin")  # nothing but sign-in without a token
    page.fill("input[name=token]", "pgt_not-a-real-token")
    page.click("form.signin button[type=submit]")
    refused = page.locator("form.signin .error[data-code=UNAUTHENTICATED]")
    refused.wait_for()
    assert "#/signin" in page.url
    assert page.evaluate("() => sessionStorage.getItem('provgraph.token')") is None

    explorer.sign_in()
    assert page.inner_text("#who .principal") == "test-reader (reader)"
    assert page.evaluate("() => sessionStorage.getItem('provgraph.token')") == explorer.token
    assert page.evaluate("() => localStorage.length") == 0  # the tab only
    page.click("#who button")
    page.wait_for_selector("form.signin")
    assert page.evaluate("() => sessionStorage.getItem('provgraph.token')") is None


def test_a_shared_link_asks_for_sign_in_then_opens(explorer: Explorer) -> None:
    page = explorer.page
    explorer.open("#/trace/" + quote("inference:demo-sent-02-05", safe=""))
    page.wait_for_selector("form.signin")
    page.fill("input[name=token]", explorer.token)
    page.click("form.signin button[type=submit]")
    explorer.wait_for_graph()
    assert "#/trace/inference%3Ademo-sent-02-05" in page.url
    assert "deployment:sentiment-api:4" in explorer.nodes()  # 2 May: version 2 had all traffic


def test_a_token_no_longer_accepted_goes_back_to_sign_in(signed_in: Explorer) -> None:
    page = signed_in.page
    # As if it had been revoked: the service answers 401 to the next call.
    page.evaluate("() => sessionStorage.setItem('provgraph.token', 'pgt_revoked-meanwhile')")
    signed_in.open("#/impact/" + quote("source:forum-scrape", safe=""))
    page.wait_for_selector("form.signin .error[data-code=UNAUTHENTICATED]")
    assert "next=" in page.url and "impact" in page.url
    signed_in.sign_in()
    signed_in.open("#/impact/" + quote("source:forum-scrape", safe=""))
    page.wait_for_selector("article.report")


@pytest.mark.parametrize(
    ("route", "code"),
    [
        ("#/lineage/" + quote("modelVersion:nope:1", safe=""), "NOT_FOUND"),
        ("#/lineage/bogus", "INVALID_ARGUMENT"),
        ("#/trace/" + quote("inference:never-logged", safe=""), "NOT_FOUND"),
        ("#/uses/" + quote("dataset:reviews", safe=""), "INVALID_ARGUMENT"),
        ("#/impact/" + quote("source:nope", safe="") + "?asOf=1800-01-01", "INVALID_ARGUMENT"),
        ("#/model-version/" + quote("modelVersion:sentiment:1", safe="") + "?compare=" + quote("model:sentiment", safe=""), "INVALID_ARGUMENT"),
    ],
)  # fmt: skip
def test_api_errors_are_shown_with_their_code_and_request_id(
    signed_in: Explorer, route: str, code: str
) -> None:
    page = signed_in.page
    signed_in.open(route)
    box = page.locator(f".error[data-code={code}]")
    box.wait_for()
    assert "request id" in box.inner_text()
    assert page.locator("#graph").count() == 0  # no empty frame where a picture would have been
    assert page.locator("form.controls").is_visible()  # the form stays, to correct the input


def test_the_cost_budget_is_respected_by_every_page(signed_in: Explorer) -> None:
    """Each page's documents stay under the default budget (20,000) with room to spare, so an operator's
    tighter PROVGRAPH_MAX_QUERY_COST does not break the explorer at once."""
    routes = [
        "#/search?text=sentiment",
        "#/lineage/" + quote("source:acme-reviews", safe="") + "?direction=DOWNSTREAM&depth=25&asOf=2026-04-01",
        "#/uses/" + quote("source:web-crawl-2026", safe=""),
        "#/trace/" + quote("inference:demo-support-16-03", safe=""),
        "#/impact/" + quote("source:web-crawl-2026", safe=""),
        "#/model-version/" + quote("modelVersion:sentiment:2", safe="") + "?compare=" + quote("modelVersion:sentiment:1", safe=""),
    ]  # fmt: skip
    schema = build_schema()._schema  # the same estimate the service makes (api/cost.py)
    for route in routes:
        signed_in.graphql.clear()
        signed_in.open(route)
        page = signed_in.page
        page.wait_for_selector("#graph[data-ready=true], article.report, table.results, table.compare")
        assert signed_in.graphql, route
        for request in signed_in.graphql:
            body = json.loads(request.post_data or "{}")
            document = parse(body["query"])
            operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            cost = request_cost(schema, operation, fragments, body.get("variables") or {})
            assert cost <= 10_000, (route, cost)


def test_graphiql_loads_the_schema_with_the_signed_in_token(signed_in: Explorer) -> None:
    page = signed_in.page
    signed_in.graphql.clear()
    page.click("#nav a:has-text('GraphiQL')")
    page.wait_for_selector(".graphiql-container")
    # The very first request GraphiQL sends, the introspection, carries the token: no re-fetch by hand.
    page.wait_for_function(
        "() => document.querySelector('.graphiql-doc-explorer-content, .graphiql-sidebar') !== null"
    )
    first = next(r for r in signed_in.graphql if r.method == "POST")
    assert "__schema" in (first.post_data or "")
    assert first.headers["authorization"] == f"Bearer {signed_in.token}"
    page.click("button[aria-label='Show Documentation Explorer']")
    page.click(".graphiql-doc-explorer a:has-text('Query')")
    fields = page.locator(".graphiql-doc-explorer")
    fields.locator("text=lineage").first.wait_for()
    for name in ("modelsUsingSource", "traceInference", "impactReport", "search"):
        assert fields.locator(f"text={name}").count() >= 1, name
    signed_in.shot("graphiql")

    # A query runs with the same token.
    page.locator(".graphiql-query-editor .CodeMirror").first.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("{ whoami { name role } }")
    page.click("button.graphiql-execute-button")
    page.wait_for_function(
        "() => document.querySelector('.graphiql-response')?.innerText.includes('test-reader')"
    )


def test_graphiql_without_a_token_asks_for_one_first(explorer: Explorer) -> None:
    page = explorer.page
    explorer.open("graphql")
    page.wait_for_selector("form.graphiql-signin")
    assert not [r for r in explorer.graphql if r.method == "POST"]  # no schema request without a token
    page.fill("form.graphiql-signin input", explorer.token)
    page.click("form.graphiql-signin button")
    page.wait_for_selector(".graphiql-container")
    page.click("button[aria-label='Show Documentation Explorer']")
    page.wait_for_selector(".graphiql-doc-explorer a:has-text('Query')")


def test_the_explorer_works_with_a_token_created_through_the_api(explorer: Explorer, tokens: Tokens) -> None:
    """The whole path a new reader takes: an admin creates a token, the reader signs in with it."""
    created = httpx.post(
        explorer.base + "/graphql",
        json={"query": 'mutation { createApiToken(input: {name: "auditor", role: READER}) { secret } }'},
        headers=tokens.header("admin"),
        timeout=10,
    ).json()
    explorer.sign_in(created["data"]["createApiToken"]["secret"])
    assert explorer.page.inner_text("#who .principal") == "auditor (reader)"
