"""The explorer in a real browser: Debian's Chromium, driven by Playwright's Python API, against the real
service (`provgraph serve` in a subprocess) with the demo story loaded into the test Neo4j.

Playwright rather than Selenium: it intercepts every request the page makes (so a test fails when anything
goes to a host other than the service), waits for elements by itself, and needs no driver binary. It is
pointed at the system's Chromium; its own browser download (`playwright install`) is never used.

Without Chromium the tests are skipped with how to install it — except under `CI=true`, where they fail.
Every test leaves a screenshot in tests/artifacts/explorer/; with PROVGRAPH_SCREENSHOTS=<dir> (`make
screenshots`) the README's pictures are written there too.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, sync_playwright

from conftest import ROOT, WIPE, Tokens
from provgraph.config import Settings
from provgraph.demo import load_demo

from ..conftest import ApiServer

ARTIFACTS = ROOT / "tests" / "artifacts" / "explorer"
# The README's pictures: small enough to commit (PNG at this size stays well under 200 KB).
VIEWPORT = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    """PROVGRAPH_CHROMIUM, else Debian's `chromium` (or `chromium-browser`) on PATH."""
    given = os.environ.get("PROVGRAPH_CHROMIUM")
    if given:
        return given
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Module scope, not package: without __init__.py files pytest gives "package" fixtures session scope, and
# Playwright's event loop then outlived this directory and broke every later test that calls asyncio.run.
@pytest.fixture(scope="module")
def demo_server(
    settings: Settings, driver: Driver, tokens: Tokens, tmp_path_factory: Any
) -> Iterator[ApiServer]:
    """The demo story in a clean graph, served in development mode (GraphiQL on) over real HTTP."""
    driver.execute_query(WIPE, database_="neo4j")
    asyncio.run(load_demo(settings))
    server = ApiServer(settings, tmp_path_factory.mktemp("explorer-api"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium(demo_server: ApiServer) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop on this thread while it is open, and the other fixtures (and
    # tests outside this package) use asyncio.run: so the browser starts after the demo is loaded and
    # stops when this module's tests are done.
    path = chromium_path()
    if path is None:
        message = (
            "Chromium is not installed, so the explorer's browser tests cannot run. `make test` installs it "
            "when run as root on Debian (apt-get install chromium); elsewhere install your distribution's "
            "chromium package or set PROVGRAPH_CHROMIUM to a Chromium or Chrome binary."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            # Root in a container has no user namespaces for Chromium's sandbox; /dev/shm may be tiny.
            args=["--no-sandbox", "--headless=new", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            yield browser
        finally:
            browser.close()


class Explorer:
    """One browser tab on the explorer. Records requests to any host but the service (they are refused)
    and errors the page logs (a refused script or style shows up there as well)."""

    def __init__(self, context: BrowserContext, base: str, token: str, name: str) -> None:
        self.context = context
        self.base = base
        self.token = token
        self.name = name
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.graphql: list[Request] = []
        context.route("**/*", self._route)
        self.page: Page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("request", lambda r: self.graphql.append(r) if r.url == base + "/graphql" else None)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _console(self, message: Any) -> None:
        # HTTP errors the tests provoke on purpose (401, 404) are logged as "Failed to load resource"; the
        # tests check how the page shows them. Anything else logged as an error fails the test.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def open(self, route: str) -> None:
        """Go to an explorer route, e.g. `#/lineage/source%3Aacme-reviews`."""
        self.page.goto(f"{self.base}/{route}")

    def sign_in(self, token: str | None = None) -> None:
        self.open("#/signin")
        self.page.fill("input[name=token]", token or self.token)
        self.page.click("form.signin button[type=submit]")
        self.page.wait_for_selector("#who .principal")

    def wait_for_graph(self) -> None:
        self.page.wait_for_selector("#graph[data-ready=true]")

    def nodes(self) -> dict[str, dict[str, Any]]:
        """What the picture holds, as drawn: each node's label, classes and position (window.provgraph)."""
        found: list[dict[str, Any]] = self.page.evaluate("() => window.provgraph.graph().nodes()")
        return {n["id"]: n for n in found}

    def edges(self) -> dict[str, dict[str, Any]]:
        found: list[dict[str, Any]] = self.page.evaluate("() => window.provgraph.graph().edges()")
        return {e["id"]: e for e in found}

    def click_node(self, node_id: str, double: bool = False) -> None:
        """A real mouse click where the node is drawn."""
        point = self.page.evaluate("(id) => window.provgraph.graph().screen(id)", node_id)
        if double:
            self.page.mouse.dblclick(point["x"], point["y"])
        else:
            self.page.mouse.click(point["x"], point["y"])

    def shot(self, name: str | None = None) -> Path:
        """A screenshot in tests/artifacts/explorer (and, for the README's pictures, PROVGRAPH_SCREENSHOTS)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name or self.name}.png"
        self.page.screenshot(path=str(path))
        docs = os.environ.get("PROVGRAPH_SCREENSHOTS")
        if name and docs:
            target = Path(docs) if Path(docs).is_absolute() else ROOT / docs
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / f"{name}.png")
        return path


@pytest.fixture
def explorer(
    chromium: Browser, demo_server: ApiServer, tokens: Tokens, request: pytest.FixtureRequest
) -> Iterator[Explorer]:
    """A fresh tab (its own sessionStorage) on the explorer, not signed in; the reader token is at hand."""
    context = chromium.new_context(viewport=VIEWPORT, device_scale_factor=1)
    tab = Explorer(context, demo_server.base, tokens.reader, re.sub(r"[^\w.-]+", "_", request.node.name))
    try:
        yield tab
        tab.shot()
    finally:
        context.close()
    assert not tab.outside, f"requests to hosts other than the service: {tab.outside}"
    assert not tab.errors, f"the page logged errors: {tab.errors}"


@pytest.fixture
def signed_in(explorer: Explorer) -> Explorer:
    explorer.sign_in()
    return explorer
