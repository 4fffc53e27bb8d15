"""The `provgraph` command: the local Neo4j, the API server, demo data, the schema file."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from provgraph import cli_answers
from provgraph.config import ConfigError, Settings, state_dir_from
from provgraph.domain.errors import ProvgraphError
from provgraph.logs import configure_logging
from provgraph.neo4j_local import LauncherError, LocalNeo4j

app = typer.Typer(
    help="Provenance for machine learning, recorded as a graph in Neo4j.",
    no_args_is_help=True,
    epilog=cli_answers.EXIT_CODES,
)
neo4j_app = typer.Typer(help="Run a local Neo4j Community server (no Docker needed).", no_args_is_help=True)
schema_app = typer.Typer(
    help="The GraphQL schema file (schema.graphql) and the database's schema version.", no_args_is_help=True
)
demo_app = typer.Typer(help="The demo provenance story.", no_args_is_help=True)
token_app = typer.Typer(
    help="Bearer tokens (this talks to Neo4j directly, with its credentials).", no_args_is_help=True
)
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(schema_app, name="schema")
app.add_typer(demo_app, name="demo")
app.add_typer(token_app, name="token")
cli_answers.register(app)  # uses-source, trace, lineage, …: questions asked of the service through the SDK

T = TypeVar("T")


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"provgraph {version('provgraph')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """Provenance for machine learning, recorded as a graph in Neo4j."""


InstanceOption = Annotated[
    str, typer.Option(help="Which local server: `neo4j` (make run) or `neo4j-test` (the test suite).")
]


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(2)


def _guarded(action: Callable[[], T]) -> T:
    """Run an action, turning the errors a user must fix into one clear line and exit code 2."""
    try:
        return action()
    except (LauncherError, ConfigError, ProvgraphError) as exc:
        _fail(str(exc))
        raise AssertionError("unreachable") from exc


def _local(instance: str, port: int | None = None) -> LocalNeo4j:
    import os

    return _guarded(lambda: LocalNeo4j.from_env(state_dir_from(os.environ), instance, port))


@neo4j_app.command("start")
def neo4j_start(
    instance: InstanceOption = "neo4j",
    port: Annotated[
        int | None, typer.Option(help="Bolt port (default 7687 or PROVGRAPH_NEO4J_PORT; 0 = any free)")
    ] = None,
) -> None:
    """Fetch Neo4j from Maven Central (first time only) and start it with authentication on."""
    server = _local(instance, port)
    connection = _guarded(lambda: server.start(progress=_say))
    _say(
        f"Connect with NEO4J_URI={connection.uri} NEO4J_USER={connection.user} (password in {server.home}/password)"
    )


@neo4j_app.command("stop")
def neo4j_stop(instance: InstanceOption = "neo4j") -> None:
    """Stop the local server (gracefully)."""
    _local(instance).stop(progress=_say)


@neo4j_app.command("status")
def neo4j_status(instance: InstanceOption = "neo4j") -> None:
    """Say whether the local server runs, and where. Exit code 1 when it does not."""
    status = _local(instance).status()
    if not status.running or status.connection is None:
        typer.echo("stopped")
        raise typer.Exit(1)
    typer.echo(f"running pid={status.pid} uri={status.connection.uri}")


@neo4j_app.command("reset")
def neo4j_reset(instance: InstanceOption = "neo4j") -> None:
    """Stop the local server and delete its data and password (the downloaded jars stay)."""
    _local(instance).reset(progress=_say)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default PROVGRAPH_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default PROVGRAPH_PORT or 8000")] = None,
) -> None:
    """Serve the GraphQL API with uvicorn."""
    from provgraph.api.app import create_app
    from provgraph.api.server import serve as run_server

    settings = _guarded(Settings.from_env)
    configure_logging(settings.log_format)
    host = host or settings.host
    port = port or settings.port
    # Through the log, not plain stderr: with PROVGRAPH_LOG_FORMAT=json every line the server writes parses.
    say = logging.getLogger("provgraph.api").info
    say("explorer on http://%s:%d/", host, port)
    if settings.development:
        say("GraphiQL on http://%s:%d/graphql", host, port)
    run_server(create_app(settings), settings, host, port)


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo provenance story (idempotent: loading it twice changes nothing)."""
    from provgraph.demo import load_demo

    settings = _guarded(Settings.from_env)
    summary = _guarded(lambda: asyncio.run(load_demo(settings)))
    _say(summary)


@app.command()
def compact(
    batch: Annotated[int | None, typer.Option(help="Inferences moved per round (default 50,000)")] = None,
) -> None:
    """Move inferences older than the hot window (PROVGRAPH_HOT_DAYS) to the cold tier and apply the cold
    retention. Safe to interrupt and to run again: an interrupted run is finished by the next."""
    from provgraph import tiers

    settings = _guarded(Settings.from_env)
    outcome = _guarded(lambda: asyncio.run(tiers.compact(settings, _say, batch)))
    recovered = f", finished {len(outcome.recovered)} interrupted" if outcome.recovered else ""
    _say(f"moved {outcome.moved:,} inferences to the cold tier in {outcome.rounds} rounds{recovered}")


@app.command()
def retention(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """The retention policy and how far back the hot and cold tiers reach."""
    from provgraph import tiers

    settings = _guarded(Settings.from_env)
    report = _guarded(lambda: asyncio.run(tiers.retention(settings)))
    typer.echo(tiers.as_json(report) if as_json else tiers.describe(report))


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses it; recorded as the actor of its writes")],
    role: Annotated[str, typer.Option(help="reader, writer or admin")] = "reader",
) -> None:
    """Create a token and print its secret (shown once)."""
    from provgraph.admin import create_token

    settings = _guarded(Settings.from_env)
    created = _guarded(lambda: asyncio.run(create_token(settings, name, role)))
    _say(
        f"Created {created.token.id} ({created.token.role.value}) for {created.token.name}. The secret, shown once:"
    )
    typer.echo(created.secret)


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    from provgraph.admin import list_tokens

    settings = _guarded(Settings.from_env)
    for token in _guarded(lambda: asyncio.run(list_tokens(settings))):
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.role.value}\t{token.name}\t{state}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="e.g. token:1a2b3c4d5e6f")]) -> None:
    """Revoke a token (takes effect within seconds on every replica)."""
    from provgraph.admin import revoke_token

    settings = _guarded(Settings.from_env)
    revoked = _guarded(lambda: asyncio.run(revoke_token(settings, token_id)))
    _say(f"Revoked {revoked.id} ({revoked.name}).")


@token_app.command("dev")
def token_dev() -> None:
    """Print the development admin token `make run` uses, creating it on first use (kept in the state dir)."""
    import os

    from provgraph.admin import development_token

    settings = _guarded(Settings.from_env)
    path = state_dir_from(os.environ) / "dev-token"
    typer.echo(_guarded(lambda: asyncio.run(development_token(settings, path))))


@schema_app.command("export")
def schema_export(
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output")] = None,
) -> None:
    """Print the schema's SDL (what `schema.graphql` must contain)."""
    from provgraph.api.schema import schema_sdl

    sdl = schema_sdl()
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)
        _say(f"wrote {output}")


@schema_app.command("status")
def schema_status() -> None:
    """The database's schema version, this code's, and the migrations applied (with Neo4j credentials).
    Exit code 0 when up to date, 1 when migrations are pending, 2 when the database is newer."""
    from provgraph.admin import describe_schema
    from provgraph.admin import schema_status as read_status

    settings = _guarded(Settings.from_env)
    status = _guarded(lambda: asyncio.run(read_status(settings)))
    for line in describe_schema(status):
        typer.echo(line)
    if status.too_new:
        raise typer.Exit(2)
    if status.pending:
        raise typer.Exit(1)


import_app = typer.Typer(
    help="Import what other tools record, through the API (PROVGRAPH_URL and a WRITER PROVGRAPH_TOKEN).",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


@import_app.command("mlflow")
def import_mlflow(
    tracking_uri: Annotated[
        str, typer.Option("--tracking-uri", help="MLflow's tracking URI (http://…, sqlite:///…)")
    ],
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", help="Only this experiment (repeat for several)")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only runs started and model versions created at or after this ISO time (UTC if no zone)"
        ),
    ] = None,
) -> None:
    """Import MLflow experiments, runs, datasets, logged and registered models, stages and aliases into the
    service at PROVGRAPH_URL, with the WRITER token in PROVGRAPH_TOKEN. Importing again changes nothing."""
    from provgraph.interchange.mlflow import ImportFailed, import_command

    try:
        summary = import_command(tracking_uri, experiment or (), since)
    except ImportFailed as exc:
        _fail(str(exc))
        return
    for line in summary.lines():
        typer.echo(line)


@import_app.command("croissant")
def import_croissant_file(
    file: Annotated[Path, typer.Argument(help="A Croissant 1.x JSON-LD file", exists=True, dir_okay=False)],
    dataset: Annotated[
        str | None,
        typer.Option(help="The dataset's name (default: the Croissant `name`, made a provgraph name)"),
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="The version (required when the file states none)")
    ] = None,
) -> None:
    """Import a Croissant dataset description, validated with mlcroissant, as a dataset version with its
    sources and split slices. An invalid file exits with code 2 and writes nothing; importing a file again
    changes nothing."""
    from provgraph.client import Client, ProvgraphClientError
    from provgraph.interchange.croissant import CroissantError, apply_plan, plan_import

    try:
        plan = plan_import(file, dataset=dataset, version=version)
    except CroissantError as exc:
        typer.secho(f"error: {file} cannot be imported; nothing was written:", err=True, fg=typer.colors.RED)
        for reason in exc.reasons:
            typer.echo(f"  - {reason}", err=True)
        raise typer.Exit(2) from exc
    try:
        with Client() as client:
            result = apply_plan(plan, client)
    except ProvgraphClientError as exc:  # the service refused or could not be reached: say which, exit 1
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from exc
    for entity_id, created in result.written:
        typer.echo(f"{'created' if created else 'already there'}\t{entity_id}")
    for note in [*plan.notes, *result.warnings]:
        _say(f"note: {note}")
    _say(
        f"{result.version_id}: {result.created} created, {len(result.written) - result.created} already there"
    )


@app.command("export")
def export_document(
    kind: Annotated[str, typer.Argument(help="prov, spdx, cyclonedx, dossier or receipt")],
    subject: Annotated[
        str,
        typer.Argument(
            help="A model version id (for prov also an inference, a source, an exclusion case, any node; "
            "for receipt an exclusion case)"
        ),
    ],
    format: Annotated[
        str | None,
        typer.Option(help="prov: json, provn, turtle, jsonld; dossier: html, pdf (default: the first)"),
    ] = None,
    answer: Annotated[
        str | None,
        typer.Option(help="prov: provenance, lineage, trace, impact or exclusion (default by the subject)"),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The time described (ISO-8601; default now)")
    ] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="As recorded by this time (ISO-8601; default now)")
    ] = None,
    direction: Annotated[str | None, typer.Option(help="A lineage answer's direction")] = None,
    depth: Annotated[int | None, typer.Option(help="A lineage answer's depth")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write it (- for standard output; default: its name)"),
    ] = None,
) -> None:
    """Export a document for auditors from the service at PROVGRAPH_URL (a READER PROVGRAPH_TOKEN will do)."""
    from datetime import datetime

    from provgraph.client import Client, ProvgraphClientError, UnavailableError

    def when(value: str | None, name: str) -> datetime | None:
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            _fail(f"{name} is not an ISO-8601 time: {value!r}")
            raise
        if moment.tzinfo is None:
            _fail(f"{name} needs a zone (for example {value}Z or {value}+00:00)")
        return moment

    try:
        with Client(retries=1) as pg:
            document = pg.export(
                kind, subject, format=format, answer=answer, as_of=when(as_of, "--as-of"),
                known_at=when(known_at, "--known-at"), direction=direction, depth=depth,
            )  # fmt: skip
    except UnavailableError as exc:
        _fail(str(exc))
        return
    except ProvgraphClientError as exc:
        typer.secho(f"error: {exc.code}: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(document.content)
        return
    target = output or Path(document.filename or f"{kind}.out")
    target.write_bytes(document.content)
    score = "" if document.completeness is None else f", {document.completeness:.0%} of recommended fields"
    _say(f"wrote {target} ({document.media_type}, {len(document.content):,} bytes{score})")


def main() -> None:
    app()
