"""The browser side: the lineage explorer at `/`, its assets, and the page GET `/graphql` answers.

The explorer is a static single-page app built from `explorer/` (TypeScript, a canvas graph renderer, GraphiQL) into
`explorer_static/` by `make install` (`npm ci && npm run build`). It talks to the service only through
the public GraphQL API with the token the user pastes, so its files hold no data and are served without
a token, like the GraphiQL page before them.

Every page is sent with a Content-Security-Policy that allows scripts, styles, fonts and requests from
this origin only: the browser itself refuses anything from a CDN or any other host.

GET `/graphql` from a browser answers, in development, GraphiQL from the same local assets (it reads the
explorer's signed-in token, so the schema loads with it); in production, where introspection is off, a
short page saying where the explorer is and that the API is POST `/graphql`.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "explorer_static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # GraphiQL sets element styles from script; no style is loaded from elsewhere.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # The pages name their assets by content hash: always ask for the page, never for an asset twice.
    "cache-control": "no-cache",
}

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>provgraph</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>The explorer is not built</h1>
<p>This installation has no explorer assets. Build them with <code>make install</code> (it runs
<code>npm ci &amp;&amp; npm run build</code> in <code>explorer/</code>; Node.js 18 or newer is needed).</p>
<p>The API works without it: <code>POST /graphql</code> with <code>Authorization: Bearer &lt;token&gt;</code>.</p>
</body></html>
"""

PRODUCTION_GRAPHQL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>provgraph API</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>provgraph GraphQL API</h1>
<p>This is the API endpoint: send queries with <code>POST /graphql</code> and the header
<code>Authorization: Bearer &lt;token&gt;</code>.</p>
<p>To look around in a browser, open the <a href="/">lineage explorer</a> and sign in with a token.</p>
<p>GraphiQL and introspection are available on development servers only (<code>PROVGRAPH_ENV=development</code>).</p>
</body></html>
"""


class Assets(StaticFiles):
    """The built scripts and styles; their names carry a content hash, so they can be cached for good."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
            response.headers["x-content-type-options"] = "nosniff"
        return response


def _page(name: str) -> Response:
    path = STATIC / name
    if not path.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers=PAGE_HEADERS)
    return FileResponse(path, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


async def explorer_page(_: Request) -> Response:
    """The explorer's single page (its routes are in the URL's fragment, after `#`)."""
    return _page("index.html")


def graphql_page(development: bool) -> Response:
    """What a browser gets for GET /graphql: GraphiQL in development, a pointer to the explorer otherwise."""
    if development:
        return _page("graphiql.html")
    return HTMLResponse(PRODUCTION_GRAPHQL_PAGE, headers=PAGE_HEADERS)


def wants_page(request: Request) -> bool:
    """A browser navigating to /graphql, as opposed to a GraphQL-over-GET request (which carries a query)."""
    if request.method not in ("GET", "HEAD") or "query" in request.query_params:
        return False
    accept = request.headers.get("accept", "*/*")
    return "text/html" in accept or "*/*" in accept


def routes() -> list[BaseRoute]:
    """`/` and `/explorer/assets/…`."""
    return [
        Route("/", explorer_page, methods=["GET", "HEAD"]),
        Mount("/explorer/assets", app=Assets(directory=STATIC / "assets", check_dir=False), name="assets"),
    ]
