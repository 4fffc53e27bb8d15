"""How the answering commands (`cli_answers`) show the SDK's results: `rich` tables, provenance drawn as a
tree, and the same results as plain JSON values. Nothing here talks to the service."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from provgraph.client._enums import Direction
from provgraph.client._models import (
    AuditReport,
    Dataset,
    DatasetVersion,
    Deployment,
    Edge,
    Endpoint,
    Experiment,
    ImpactReport,
    Inference,
    Lineage,
    Model,
    ModelVersion,
    Node,
    RegistryEvent,
    Run,
    Slice,
    Source,
    SourceUses,
    Trace,
)


def plain(value: Any) -> Any:
    """A result as JSON values: dataclasses as objects (fields in their declared order), times as ISO-8601,
    enum members as their names in the API."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    if moment.utcoffset() == timedelta(0):
        return f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    return moment.isoformat()


def _share(deployment: Deployment) -> str:
    return f"{deployment.traffic_share:.0%}"


def describe(node: Node) -> str:
    """One line about a node: its id and what tells it apart."""
    match node:
        case Source():
            excluded = f", excluded {when(node.excluded_at)}" if node.excluded_at else ""
            return f"{node.id} ({node.kind}{excluded})"
        case DatasetVersion():
            rows = f", {node.row_count:,} rows" if node.row_count is not None else ""
            return f"{node.id} (created {when(node.created_at)}{rows})"
        case Slice():
            return f"{node.id}" + (f" ({node.predicate})" if node.predicate else "")
        case Run():
            return f"{node.id} ({node.kind}, {node.status})"
        case ModelVersion():
            aliases = f", aliases {', '.join(node.aliases)}" if node.aliases else ""
            return f"{node.id} ({node.stage}{aliases})"
        case Deployment():
            span = f"{when(node.started_at)} → {when(node.ended_at) if node.ended_at else 'live'}"
            return f"{node.id} (on {node.endpoint_id}, {_share(node)}, {span})"
        case Inference():
            return f"{node.id} (at {when(node.at)})"
        case Endpoint():
            return f"{node.id} ({node.environment})"
        case Dataset() | Experiment() | Model():
            return node.id
    return str(getattr(node, "id", node))


def _edge_label(edge: Edge) -> str:
    return f"{edge.type} ({edge.role})" if edge.role else edge.type


def provenance_tree(
    root_id: str,
    edges: Sequence[Edge],
    labels: dict[str, str],
    direction: Direction = Direction.UPSTREAM,
) -> Tree:
    """The graph drawn from `root_id` along `edges` (which point from the derived thing to its origin):
    upstream follows them, downstream walks them backwards, both draws the two under the root. A node
    reached again is named, not drawn again, so shared origins stay readable and a cycle cannot loop."""
    tree = Tree(Text(labels.get(root_id, root_id), style="bold"))
    drawn = {root_id}
    if direction == Direction.BOTH:
        for way in (Direction.UPSTREAM, Direction.DOWNSTREAM):
            _grow(tree.add(Text(way.value.lower(), style="italic")), root_id, edges, labels, way, drawn)
    else:
        _grow(tree, root_id, edges, labels, direction, drawn)
    left = sorted(set(labels) - drawn)
    if left:  # reached through edges of another page or type filter: still part of the answer
        also = tree.add(Text("also reached", style="italic"))
        for node_id in left:
            also.add(Text(labels[node_id]))
    return tree


def _grow(
    branch: Tree,
    node_id: str,
    edges: Sequence[Edge],
    labels: dict[str, str],
    direction: Direction,
    drawn: set[str],
) -> None:
    upstream = direction == Direction.UPSTREAM
    steps = [
        (edge, edge.to_id if upstream else edge.from_id)
        for edge in edges
        if (edge.from_id if upstream else edge.to_id) == node_id
    ]
    for edge, next_id in sorted(steps, key=lambda step: (step[0].type, step[1])):
        if next_id in drawn:
            branch.add(Text.assemble((_edge_label(edge), "dim"), " ", next_id, (" (shown above)", "dim")))
            continue
        drawn.add(next_id)
        label = Text.assemble((_edge_label(edge), "dim"), " ", labels.get(next_id, next_id))
        _grow(branch.add(label), next_id, edges, labels, direction, drawn)


def trace_view(trace: Trace) -> Tree:
    nodes: list[Node] = [
        trace.inference,
        trace.model_version,
        *([trace.deployment] if trace.deployment else []),
        *trace.fine_tune_chain,
        *trace.runs,
        *trace.dataset_versions,
        *trace.slices,
        *trace.sources,
    ]
    labels = {node.id: describe(node) for node in nodes}
    # The trace's edges start at the model version; the serving hops are its own fields.
    inference, version = trace.inference.id, trace.model_version.id
    served = (
        [Edge("SERVED_BY", inference, trace.deployment.id), Edge("OF", trace.deployment.id, version)]
        if trace.deployment
        else [Edge("PREDICTED_WITH", inference, version)]
    )
    return provenance_tree(inference, [*served, *trace.edges], labels)


def lineage_view(subject_id: str, lineage: Lineage, direction: Direction) -> Group:
    labels = {node.id: describe(node) for node in lineage.nodes}
    labels.setdefault(subject_id, subject_id)
    tree = provenance_tree(subject_id, lineage.edges, labels, direction)
    count = f"{lineage.total_count} nodes, {len(lineage.edges)} edges"
    partial = "; partial: a depth or size limit cut it" if lineage.is_partial else ""
    return Group(tree, Text(count + partial, style="dim"))


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _path(node_ids: Sequence[str], edge_types: Sequence[str]) -> str:
    parts = [node_ids[0]]
    for edge_type, node_id in zip(edge_types, node_ids[1:], strict=False):
        parts.append(f"─{edge_type}→ {node_id}")
    return " ".join(parts)


def uses_view(source_id: str, uses: SourceUses, as_of: datetime | None) -> Table:
    moment = f" as of {when(as_of)}" if as_of else ""
    subject = source_id if ":" in source_id else f"source:{source_id}"
    table = _table(f"Model versions using {subject}{moment}", "Model version", "Stage", "Deployed", "Why")
    for use in uses.items:
        deployed = "\n".join(
            f"{d.endpoint_id} {_share(d)} since {when(d.started_at)}" for d in use.deployments
        )
        why = _path(use.paths[0].node_ids, use.paths[0].edge_types) if use.paths else ""
        more = f"\n(+{len(use.paths) - 1} more paths)" if len(use.paths) > 1 else ""
        table.add_row(use.model_version.id, str(use.stage), deployed or "—", why + more)
    table.caption = f"model versions: {uses.total_count}"
    return table


def impact_view(report: ImpactReport) -> Group:
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("Source", describe(report.source))
    summary.add_row("As of", when(report.as_of))
    summary.add_row("First used", when(report.first_used_at))
    summary.add_row("Inferences served", f"{report.inferences:,}")
    if report.is_partial:
        summary.add_row("Partial", "yes: a depth or size limit cut the report")
    versions = _table("Model versions", "Model version", "Stage", "Live deployments", "Inferences")
    for affected in report.model_versions:
        live = "\n".join(f"{d.endpoint_id} {_share(d)}" for d in affected.live_deployments)
        versions.add_row(
            affected.model_version.id, str(affected.stage), live or "—", f"{affected.inferences:,}"
        )
    derived = _table("Data and runs", "Kind", "Id", "Detail")
    for version in report.dataset_versions:
        derived.add_row("dataset version", version.id, f"created {when(version.created_at)}")
    for piece in report.slices:
        derived.add_row("slice", piece.id, piece.predicate or "")
    for run in report.runs:
        derived.add_row("run", run.id, f"{run.kind}, {run.status}, started {when(run.started_at)}")
    return Group(summary, Text(), versions, Text(), derived)


def deployments_view(endpoint: str, at: datetime | None, deployments: Iterable[Deployment]) -> Table:
    table = _table(
        f"Live on {endpoint} at {when(at) if at else 'now'}",
        "Deployment",
        "Model version",
        "Share",
        "Started",
        "Ended",
    )
    for d in deployments:
        table.add_row(d.id, d.model_version_id, _share(d), when(d.started_at), when(d.ended_at))
    return table


def _change(event: RegistryEvent) -> str:
    if event.from_stage is not None or event.to_stage is not None:
        return f"{event.from_stage or '—'} → {event.to_stage or '—'}"
    return event.alias or ""


def history_view(subject_id: str, events: Sequence[RegistryEvent]) -> Table:
    table = _table(
        f"Registry history of {subject_id}",
        "Seq",
        "At",
        "Model version",
        "Event",
        "Change",
        "Actor",
        "Reason",
    )
    for e in events:
        table.add_row(
            str(e.seq), when(e.at), e.model_version_id, str(e.kind), _change(e), e.actor, e.reason or ""
        )
    return table


def audit_view(report: AuditReport) -> Group:
    verdict = (
        Text("valid: every chain and ledger checked is intact", style="bold green")
        if report.valid
        else Text(f"BROKEN: {len(report.breaks)} break(s) found", style="bold red")
    )
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    for name, value in [
        ("Models", report.models),
        ("Registry events", report.events),
        ("Ledger entries", report.entries),
        ("Facts compared", report.facts),
    ]:
        summary.add_row(name, f"{value:,}")
    summary.add_row("Seals checked", "yes" if report.sealed else "no")
    if report.checkpoint_taken_at is not None:
        summary.add_row("Checkpoint", when(report.checkpoint_taken_at))
    parts: list[RenderableType] = [verdict, summary]
    if report.breaks:
        breaks = _table("Breaks", "Chain", "Seq", "Record", "Problem")
        for b in report.breaks:
            breaks.add_row(b.chain, str(b.seq), b.event_id or "", b.problem)
        parts += [Text(), breaks]
    return Group(*parts)
