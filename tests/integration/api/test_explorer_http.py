"""The explorer's pages and assets over HTTP (what they draw is tested in a browser: tests/e2e/explorer)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from provgraph.api import explorer


def manifest() -> dict[str, dict[str, dict[str, object]]]:
    path = explorer.STATIC / "manifest.json"
    if not path.is_file():
        pytest.fail("the explorer is not built: run `make install` (npm ci && npm run build in explorer/)")
    loaded: dict[str, dict[str, dict[str, object]]] = json.loads(path.read_text())
    return loaded


def test_the_explorer_page_allows_nothing_but_this_origin(client: TestClient) -> None:
    page = client.get("/", headers={"authorization": ""})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert page.headers["cache-control"] == "no-cache"
    # Every script and style the page names is one of ours, under /explorer/assets/.
    names = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert names and all(n.startswith(("/explorer/assets/", "#/", "data:")) for n in names), names


def test_assets_are_served_with_their_content_hash_and_cached_for_good(client: TestClient) -> None:
    for entry in manifest().values():
        for kind, asset in entry.items():
            response = client.get(f"/explorer/assets/{asset['file']}", headers={"authorization": ""})
            assert response.status_code == 200
            assert len(response.content) == asset["bytes"]
            assert "immutable" in response.headers["cache-control"]
            assert response.headers["content-type"].startswith(
                "text/javascript" if kind == "js" else "text/css"
            )
    assert client.get("/explorer/assets/nope.js").status_code == 404
    assert client.get("/explorer/assets/../explorer.py").status_code == 404


def test_graphiql_in_development_is_built_from_local_assets(client: TestClient) -> None:
    page = client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert "/explorer/assets/graphiql-" in page.text
    assert "https://" not in page.text and "http://" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_graphql_over_get_is_still_refused(client: TestClient) -> None:
    # A GET that carries a query is a GraphQL request, not a browser visit: queries only travel by POST.
    response = client.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 400
    assert "text/html" not in response.headers.get("content-type", "")


def test_an_installation_without_the_built_explorer_says_how_to_build_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(explorer, "STATIC", tmp_path)
    page = client.get("/")
    assert page.status_code == 503 and "make install" in page.text
    # The API itself is unaffected.
    assert (
        client.post("/graphql", json={"query": "{ whoami { role } }"}).json()["data"]["whoami"]["role"]
        == "ADMIN"
    )
