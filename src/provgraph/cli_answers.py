"""The commands that answer provenance questions: `uses-source`, `trace`, `lineage`, `impact`,
`deployed-at`, `history` and `verify-audit`. They are clients of the running service — they ask through the
SDK over HTTP (`PROVGRAPH_URL`, `PROVGRAPH_TOKEN`) and never open the database — and print a `rich` table
or tree, or with `--json` the SDK's result as JSON. The exit code says which kind of answer or error it was
(`EXIT_CODES`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import httpx
import typer
from rich.console import Console, RenderableType

from provgraph import cli_views as views
from provgraph.client import (
    Client,
    Direction,
    InvalidArgumentError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
    ProvgraphClientError,
    Stage,
    UnauthenticatedError,
    UnavailableError,
)
from provgraph.client._models import Edge, Lineage, Node, RegistryEvent, SourceUses

T = TypeVar("T")

OK, NEGATIVE, BAD_INPUT, NOT_FOUND, AUTH, UNAVAILABLE = range(6)

EXIT_CODES = """Exit codes of the commands that ask the service:
  0  answered
  1  the answer is no: uses-source found no model version, deployed-at nothing live, verify-audit a break
  2  bad usage or input (INVALID_ARGUMENT, LIMIT_EXCEEDED, a malformed time)
  3  not found (NOT_FOUND)
  4  not authenticated or not allowed (UNAUTHENTICATED, PERMISSION_DENIED)
  5  the service is unreachable, unavailable, timed out or failed (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL)
An error is one line on standard error: error: <message> (code CODE)"""

# Which exit code each SDK error class means; checked in order, so the base class comes last.
_EXIT_BY_ERROR: list[tuple[type[ProvgraphClientError], int]] = [
    (InvalidArgumentError, BAD_INPUT),
    (LimitExceededError, BAD_INPUT),
    (NotFoundError, NOT_FOUND),
    (UnauthenticatedError, AUTH),
    (PermissionDeniedError, AUTH),
    (UnavailableError, UNAVAILABLE),
    (ProvgraphClientError, UNAVAILABLE),  # INTERNAL and codes this CLI does not know: the service failed
]

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="PROVGRAPH_URL",
        help="The service's GraphQL URL (default http://127.0.0.1:8000/graphql).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="PROVGRAPH_TOKEN", help="A bearer token (READER will do).", show_default=False
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print the SDK's answer as JSON (times in ISO-8601) instead of a table."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Answer as the world was at this ISO-8601 time (with a zone; default now)."),
]
KnownAtOption = Annotated[
    str | None,
    typer.Option(
        "--known-at", help="Answer as the service knew it at this ISO-8601 time (default: all recorded)."
    ),
]
DepthOption = Annotated[
    int | None, typer.Option("--depth", help="How many hops to follow (default: the service's maximum).")
]


def fail(message: str, code: str, exit_code: int) -> NoReturn:
    """Print the one error line and exit with `exit_code`."""
    typer.secho(f"error: {message} (code {code})", err=True, fg=typer.colors.RED)
    raise typer.Exit(exit_code)


def exit_code_of(error: ProvgraphClientError) -> int:
    return next(code for cls, code in _EXIT_BY_ERROR if isinstance(error, cls))


def moment(value: str | None, option: str) -> datetime | None:
    """An option's ISO-8601 time; the service needs a zone, so a bare time is refused here already."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} is not an ISO-8601 time: {value!r}", "INVALID_ARGUMENT", BAD_INPUT)
    if parsed.tzinfo is None:
        example = parsed.isoformat()
        fail(
            f"{option} needs a zone, for example {example}Z or {example}+02:00", "INVALID_ARGUMENT", BAD_INPUT
        )
    return parsed


def ask(url: str | None, token: str | None, question: Callable[[Client], T]) -> T:
    """Ask the service one question through the SDK, turning every error into its line and exit code."""
    try:
        # One retry: a person is waiting, and a service that is down should say so in about a second.
        with Client(url, token=token, retries=1) as pg:
            return question(pg)
    except ProvgraphClientError as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        if exc.request_id and exit_code_of(exc) == UNAVAILABLE:
            message += f" (request id {exc.request_id})"
        fail(message, exc.code, exit_code_of(exc))
    except httpx.InvalidURL as exc:
        fail(f"--url is not a URL: {exc}", "INVALID_ARGUMENT", BAD_INPUT)


def show(answer: Any, as_json: bool, view: Callable[[], RenderableType]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(views.plain(answer), indent=2, ensure_ascii=False) + "\n")
    else:
        # Markup off: ids, reasons and problems are the user's text, never rich's formatting.
        Console(markup=False, highlight=False).print(view())


def _all_uses(pg: Client, source_id: str, **question: Any) -> SourceUses:
    """Every page of the answer: a CLI user asked for the whole list."""
    first = page = pg.models_using_source(source_id, **question)
    items = list(page.items)
    while page.page_info.has_next_page and page.page_info.end_cursor:
        page = pg.models_using_source(source_id, after=page.page_info.end_cursor, **question)
        items += page.items
    return replace(first, items=items, page_info=page.page_info)


def _whole_lineage(pg: Client, node_id: str, **question: Any) -> Lineage:
    first = page = pg.lineage(node_id, **question)
    nodes: dict[str, Node] = {node.id: node for node in page.nodes}
    edges: dict[Edge, None] = dict.fromkeys(page.edges)
    while page.page_info.has_next_page and page.page_info.end_cursor:
        page = pg.lineage(node_id, after=page.page_info.end_cursor, **question)
        nodes.update((node.id, node) for node in page.nodes)
        edges.update(dict.fromkeys(page.edges))
    return replace(
        first,
        nodes=list(nodes.values()),
        edges=list(edges),
        page_info=page.page_info,
        is_partial=first.is_partial or page.is_partial,
    )


def uses_source(
    source_id: Annotated[str, typer.Argument(help="A source, by name or id (source:<name>).")],
    stage: Annotated[
        Stage | None, typer.Option(case_sensitive=False, help="Only versions in this stage then.")
    ] = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    depth: DepthOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Which model versions used data from a source.

    Through derivations, slices, runs and fine-tuning; with each version's stage, where it was deployed and
    a path that explains why. Exit code 1 when no model version did."""
    when, known = moment(as_of, "--as-of"), moment(known_at, "--known-at")
    uses = ask(
        url,
        token,
        lambda pg: _all_uses(pg, source_id, stage=stage, as_of=when, known_at=known, max_depth=depth),
    )
    show(uses, as_json, lambda: views.uses_view(source_id, uses, when))
    if not uses.items:
        raise typer.Exit(NEGATIVE)


def trace(
    inference_id: Annotated[str, typer.Argument(help="An inference, by key or id (inference:<key>).")],
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Trace an inference back to its deployment, model version, runs, data and sources.

    Drawn as a tree, with the fine-tuning chain."""
    found = ask(url, token, lambda pg: pg.trace_inference(inference_id))
    show(found, as_json, lambda: views.trace_view(found))


def lineage(
    subject_id: Annotated[
        str, typer.Argument(help="Any node's id, e.g. modelVersion:base:1 or source:crawl.")
    ],
    direction: Annotated[
        Direction,
        typer.Option(
            case_sensitive=False, help="Towards origins (UPSTREAM), derivatives (DOWNSTREAM) or both."
        ),
    ] = Direction.UPSTREAM,
    depth: DepthOption = None,
    node_type: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only nodes of this type, e.g. Source (repeat for several)."),
    ] = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """The provenance graph around a node, drawn as a tree.

    Every page of it; a note says when a depth or size limit cut it."""
    when, known = moment(as_of, "--as-of"), moment(known_at, "--known-at")
    graph = ask(
        url,
        token,
        lambda pg: _whole_lineage(
            pg, subject_id, direction=direction, max_depth=depth, types=node_type, as_of=when, known_at=known
        ),
    )
    show(graph, as_json, lambda: views.lineage_view(subject_id, graph, direction))


def impact(
    source_id: Annotated[str, typer.Argument(help="A source, by name or id (source:<name>).")],
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Everything derived from a source: what excluding it would affect.

    Dataset versions, slices, runs, model versions by stage with their live deployments, and the
    inferences they served."""
    when, known = moment(as_of, "--as-of"), moment(known_at, "--known-at")
    report = ask(url, token, lambda pg: pg.impact_report(source_id, as_of=when, known_at=known))
    show(report, as_json, lambda: views.impact_view(report))


def deployed_at(
    endpoint: Annotated[str, typer.Argument(help="An endpoint, by name or id (endpoint:<name>).")],
    at: Annotated[
        str | None, typer.Option(help="The ISO-8601 time asked about (with a zone; default now).")
    ] = None,
    known_at: KnownAtOption = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """The model versions live on an endpoint at a time.

    With each deployment's traffic share. Exit code 1 when nothing was live."""
    name = endpoint.removeprefix("endpoint:")  # the API names endpoints; the other answers print ids
    moment_at, known = moment(at, "--at"), moment(known_at, "--known-at")
    live = ask(url, token, lambda pg: pg.deployed_at(name, moment_at, known_at=known))
    show(live, as_json, lambda: views.deployments_view(f"endpoint:{name}", moment_at, live))
    if not live:
        raise typer.Exit(NEGATIVE)


def _model_history(pg: Client, model: str) -> list[RegistryEvent]:
    events = page = pg.model_history(model, first=500)
    while len(page) == 500:  # a full page: there may be more after its last event
        page = pg.model_history(model, first=500, after=page[-1].id)
        events = events + page
    return events


def history(
    subject_id: Annotated[
        str, typer.Argument(help="A model version (modelVersion:<model>:<n>) or a model (model:<name>).")
    ],
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """The registry history of a model version or a model, oldest first.

    Registration, stage and alias changes, who made them and why; for a model, every version's events in
    the model's hash-chained log."""
    if subject_id.startswith("modelVersion:"):
        events = ask(url, token, lambda pg: pg.history(subject_id))
    elif subject_id.startswith("model:") or ":" not in subject_id:
        events = ask(url, token, lambda pg: _model_history(pg, subject_id))
    else:
        message = f"history is kept for models and model versions, not {subject_id!r}"
        fail(message, "INVALID_ARGUMENT", BAD_INPUT)
    show(events, as_json, lambda: views.history_view(subject_id, events))


def verify_audit(
    model: Annotated[str | None, typer.Option(help="Only this model's chain (name or model:<name>).")] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="A checkpoint's JSON file (from the auditCheckpoint query; - for standard input)."),
    ] = None,
    as_json: JsonOption = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Verify the tamper evidence: hash chains, seals and ledgers.

    The registry hash chains, the seals and the served graph against the ledgers, and with --against that
    nothing was truncated or rewritten since a checkpoint. Exit code 1 when anything is broken."""
    checkpoint = None
    if against is not None:
        try:
            checkpoint = sys.stdin.read() if str(against) == "-" else against.read_text()
        except OSError as exc:
            fail(f"cannot read --against: {exc}", "INVALID_ARGUMENT", BAD_INPUT)
    report = ask(url, token, lambda pg: pg.verify_audit(model, against=checkpoint))
    show(report, as_json, lambda: views.audit_view(report))
    if not report.valid:
        raise typer.Exit(NEGATIVE)


COMMANDS: list[tuple[str, Callable[..., None]]] = [
    ("uses-source", uses_source),
    ("trace", trace),
    ("lineage", lineage),
    ("impact", impact),
    ("deployed-at", deployed_at),
    ("history", history),
    ("verify-audit", verify_audit),
]


def register(app: typer.Typer) -> None:
    """Add the answering commands to the `provgraph` command, under their own heading in `--help`."""
    for name, command in COMMANDS:
        app.command(name, epilog=EXIT_CODES, rich_help_panel="Ask the service")(command)
