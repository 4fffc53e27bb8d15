"""Lineage as a picture without a browser: Graphviz DOT and Mermaid text for CLIs, notebooks and reports.

Both are drawn from ids and edges alone (an id says what a node is: `datasetVersion:reviews:v3` is version
v3 of dataset reviews), bottom to top in the direction provenance edges point — from what was derived to
what it came from. Nodes named in `highlight` (an explaining path, the start of a lineage) are emphasised;
DOT marks nodes named in `excluded` (sources excluded from use) in red, dashed, with the word EXCLUDED.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from provgraph.domain.lineage import Edge

# Fill colours by kind: data in blues, runs in amber, models in green, serving in purple.
_COLOURS = {
    "source": "#cfe2ff",
    "dataset": "#e7f1ff",
    "datasetVersion": "#e7f1ff",
    "slice": "#f1f7ff",
    "experiment": "#fff3cd",
    "run": "#ffe8a1",
    "model": "#d1e7dd",
    "modelVersion": "#a3cfbb",
    "endpoint": "#e2d9f3",
    "deployment": "#e2d9f3",
    "inference": "#f8f9fa",
}
_EXCLUDED_FILL = "#f8d7da"
_TITLES = {
    "source": "Source",
    "dataset": "Dataset",
    "datasetVersion": "DatasetVersion",
    "slice": "Slice",
    "experiment": "Experiment",
    "run": "Run",
    "model": "Model",
    "modelVersion": "ModelVersion",
    "endpoint": "Endpoint",
    "deployment": "Deployment",
    "inference": "Inference",
}


def label_of(node_id: str) -> tuple[str, str]:
    """(kind title, readable name) of an id: `modelVersion:sentiment:2` → (ModelVersion, sentiment #2)."""
    kind, _, rest = node_id.partition(":")
    parts = rest.split(":")
    if kind in ("modelVersion", "deployment") and len(parts) == 2:
        name = f"{parts[0]} #{parts[1]}"
    elif kind == "slice" and len(parts) == 3:
        name = f"{parts[0]} {parts[1]} / {parts[2]}"
    else:
        name = " ".join(parts)
    return _TITLES.get(kind, kind), name


def dot(
    node_ids: Iterable[str],
    edges: Sequence[Edge],
    highlight: Iterable[str] = (),
    excluded: Iterable[str] = (),
) -> str:
    """A Graphviz DOT digraph of the nodes and the edges among them."""
    marked = set(highlight)
    gone = set(excluded)
    ids = _all_ids(node_ids, edges)
    lines = [
        "digraph provenance {",
        "  rankdir=BT;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8, color="#6c757d"];',
    ]
    for node_id in ids:
        kind = node_id.partition(":")[0]
        title, name = label_of(node_id)
        extra = ', penwidth=2.5, color="#d63384"' if node_id in marked else ""
        fill = _COLOURS.get(kind, "#ffffff")
        text = f"{title}\n{name}"
        if node_id in gone:
            fill, text = _EXCLUDED_FILL, text + "\nEXCLUDED"
            extra += ', style="rounded,filled,dashed", penwidth=2, color="#b02a37", fontcolor="#842029"'
        lines.append(f'  {_dot_quote(node_id)} [label={_dot_quote(text)}, fillcolor="{fill}"{extra}];')
    for e in edges:
        emphasis = ', color="#d63384", penwidth=2' if e.from_id in marked and e.to_id in marked else ""
        lines.append(
            f"  {_dot_quote(e.from_id)} -> {_dot_quote(e.to_id)} [label={_dot_quote(_edge_label(e))}{emphasis}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def mermaid(node_ids: Iterable[str], edges: Sequence[Edge], highlight: Iterable[str] = ()) -> str:
    """A Mermaid flowchart of the nodes and the edges among them (paste into Markdown that renders it)."""
    marked = set(highlight)
    ids = _all_ids(node_ids, edges)
    short = {node_id: f"n{number}" for number, node_id in enumerate(ids)}
    lines = ["flowchart BT"]
    for node_id in ids:
        title, name = label_of(node_id)
        lines.append(f'  {short[node_id]}["{_mermaid_text(title)}<br/>{_mermaid_text(name)}"]')
    for e in edges:
        lines.append(f"  {short[e.from_id]} -->|{_mermaid_text(_edge_label(e))}| {short[e.to_id]}")
    kinds = sorted({node_id.partition(":")[0] for node_id in ids})
    for kind in kinds:
        members = ",".join(short[n] for n in ids if n.partition(":")[0] == kind)
        lines.append(f"  classDef {kind} fill:{_COLOURS.get(kind, '#ffffff')},stroke:#6c757d")
        lines.append(f"  class {members} {kind}")
    if marked & set(ids):
        lines.append("  classDef highlight stroke:#d63384,stroke-width:3px")
        lines.append(f"  class {','.join(short[n] for n in ids if n in marked)} highlight")
    return "\n".join(lines) + "\n"


def _all_ids(node_ids: Iterable[str], edges: Sequence[Edge]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(node_ids)
    for e in edges:
        seen.setdefault(e.from_id)
        seen.setdefault(e.to_id)
    return list(seen)


def _edge_label(e: Edge) -> str:
    detail = e.role or e.transform
    return f"{e.type} ({detail})" if detail else e.type


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _mermaid_text(text: str) -> str:
    # Mermaid labels take HTML entities; quotes, angle brackets and pipes would end or break the label.
    return (
        text.replace("&", "&amp;")
        .replace('"', "#quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "&#124;")
    )
