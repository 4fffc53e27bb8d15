"""What the dossier says: a model version's gathered provenance, arranged under the headings it answers.

Headings cite only what the references support: Annex IV §1 (general description, versions), §2 and
§2(d) (development; data requirements: "provenance, scope and main characteristics; how the data was
obtained and selected; labelling procedures …, data cleaning methodologies"), §3 (monitoring,
functioning), §6 (changes through the lifecycle), Article 10(2) (data governance: collection processes
and origin, preparation, bias examination) and Article 12 (record-keeping). Where the graph holds the
facts they are filled in; where it does not, the value is None ("not recorded") and a `Gap` names it.
Nothing is inferred beyond the recorded edges: a dataset version's sources "through its lineage" are
the sources its recorded derivations reach, and they are marked as such.
"""

from __future__ import annotations

from datetime import datetime

from provgraph.domain.catalog import DatasetVersion, Slice, Source
from provgraph.domain.lineage import Edge
from provgraph.service.documents.dossier_lifecycle import exclusions, history, serving
from provgraph.service.documents.dossier_model import (
    Dossier,
    Facts,
    Gap,
    Note,
    Picture,
    Section,
    Table,
    lines,
    when,
)
from provgraph.service.documents.dossier_runs import run_blocks
from provgraph.service.documents.gather import ModelVersionProvenance
from provgraph.service.pictures import label_of

# Edges along which data inherits its sources (not FINE_TUNED_FROM: a base model's data is the base's).
_DATA_EDGES = frozenset({"DERIVED_FROM", "SUBSET_OF", "FROM_SOURCE", "GENERATED_BY", "USED"})


def readable(node_id: str) -> str:
    return label_of(node_id)[1]


class _Gaps:
    def __init__(self) -> None:
        self.gaps: list[Gap] = []
        self.present: list[str] = []

    def need(self, heading: str, item: str, lacking: list[str], of: int | None = None) -> None:
        """`item` is asked for by `heading`; `lacking` names the records without it (all when `of` is
        None and the list is empty: the graph has no place for it)."""
        if of is not None and not lacking:
            self.present.append(item)
        elif of is None:
            self.gaps.append(Gap(heading, item))
        else:
            self.gaps.append(Gap(heading, item, f"{len(lacking)} of {of}: {', '.join(lacking)}"))


def build(p: ModelVersionProvenance, svg: str) -> Dossier:
    """The dossier of a gathered model version; `svg` is its lineage picture (dossier_picture)."""
    gaps = _Gaps()
    version, model = p.model_version, p.model
    title = f"{model.name} version {version.version}"
    stamp = f"{version.id} · as of {when(p.as_of)} · known at {when(p.known_at)}"
    sections = (
        _general(p, gaps),
        _lineage(p, svg, gaps),
        _data(p, gaps),
        Section("runs", "Training and data-preparation runs", ("Annex IV §2",), run_blocks(p, gaps.need)),
        serving(p),
        history(p, gaps.need),
        exclusions(p),
    )
    audit = p.audit
    summary = Facts(
        (
            ("Model", model.name),
            ("Version", str(version.version)),
            ("Model version id", version.id),
            ("Stage then", p.state.stage.value),
            ("Aliases then", ", ".join(p.state.aliases) or "none"),
            ("As of (the time described)", when(p.as_of)),
            ("Known at (as recorded by)", when(p.known_at)),
            ("Registry audit chain", "verifies" if audit.valid else f"BROKEN ({len(audit.breaks)} problems)"),
            ("Excluded sources it depends on", str(len(p.exclusions))),
            ("Items not recorded", str(len(dict.fromkeys(g.item for g in gaps.gaps)))),
        )
    )
    return Dossier(
        title=f"Technical documentation: {title}",
        subject_id=version.id,
        as_of=p.as_of,
        known_at=p.known_at,
        stamp=stamp,
        summary=summary,
        sections=sections,
        gaps=tuple(gaps.gaps),
        present=tuple(gaps.present),
    )


def _general(p: ModelVersionProvenance, gaps: _Gaps) -> Section:
    version, model = p.model_version, p.model
    gaps.need("Annex IV §1", "intended purpose", [])
    facts = Facts(
        (
            ("Model", model.name),
            ("Model description", model.description),
            ("Model owner", model.owner),
            ("Version", str(version.version)),
            ("Model version id", version.id),
            ("Version description", version.description),
            ("Artifact", version.artifact_uri),
            ("Framework", version.framework),
            ("Size", f"{version.size_bytes:,} bytes" if version.size_bytes is not None else None),
            ("Tags", ", ".join(version.tags) or None),
            (
                "Metrics recorded on the version",
                lines(f"{k} = {v:g}" for k, v in sorted(version.metrics.items())),
            ),
            ("Created", when(version.created_at)),
            ("Registered", f"{when(version.recorded.recorded_at)} by {version.recorded.recorded_by}"),
            ("Trained by", version.trained_by),
            ("Fine-tuned from", version.fine_tuned_from or "none (not a fine-tuned version)"),
            ("Stage as of the date", p.state.stage.value),
            ("Aliases as of the date", ", ".join(p.state.aliases) or "none"),
            ("Intended purpose", None),
        ),
        "Identity and versions",
    )
    note = Note(
        "The graph records what this version was made from, how it moved through the registry and where it "
        "served; it does not record what the system is intended for, so the intended purpose is not recorded.",
        "gap",
    )
    return Section("general", "General description and versions", ("Annex IV §1",), (facts, note))


def _lineage(p: ModelVersionProvenance, svg: str, gaps: _Gaps) -> Section:
    blocks: list[Facts | Table | Picture | Note] = [
        Picture(
            f"Provenance of {p.model_version.id} as of {when(p.as_of)}",
            svg,
            "Arrows point from what was derived to what it came from (W3C PROV's direction). The version "
            "described is outlined in pink; excluded sources are red, dashed and marked EXCLUDED.",
        )
    ]
    if p.upstream.is_partial:
        blocks.append(
            Note(
                "The lineage was cut by the service's node limit: the picture and the tables below do not "
                "show everything this version came from.",
                "warning",
            )
        )
        gaps.need("Annex IV §2", "complete lineage", [])
    else:
        gaps.present.append("complete lineage")
    return Section("lineage", "Lineage", ("Annex IV §2",), tuple(blocks))


def sources_reached(node_id: str, edges: tuple[Edge, ...]) -> set[str]:
    """The sources a data node reaches through its recorded derivations, subsets and generating runs."""
    out: dict[str, list[str]] = {}
    for e in edges:
        if e.type in _DATA_EDGES:
            out.setdefault(e.from_id, []).append(e.to_id)
    seen, todo = {node_id}, [node_id]
    while todo:
        for nxt in out.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return {n for n in seen if n.startswith("source:")}


def _data(p: ModelVersionProvenance, gaps: _Gaps) -> Section:
    edges = p.upstream.edges
    sources = {s.id: s for s in p.sources}
    used_by: dict[str, list[str]] = {}
    for e in edges:
        if e.type == "USED":
            used_by.setdefault(e.to_id, []).append(f"{e.from_id} ({(e.role or 'role not recorded').lower()})")
    data: list[DatasetVersion | Slice] = [*p.dataset_versions, *p.slices]
    data.sort(key=lambda d: d.id)
    rows, unsourced = [], []
    for d in data:
        direct = set(d.source_ids)
        reached = sources_reached(d.id, edges)
        if not reached:
            unsourced.append(d.id)
        named = [
            f"{readable(s)} — {_licence(sources.get(s))}" + ("" if s in direct else " (via lineage)")
            for s in sorted(reached)
        ]
        rows.append(
            (
                d.id,
                d.digest,
                f"{d.row_count:,}" if d.row_count is not None else None,
                d.uri if isinstance(d, DatasetVersion) else f"subset of {d.dataset_version_id}",
                lines(named),
                _derivation(d),
                lines(sorted(used_by.get(d.id, []))) or "none directly",
            )
        )
    n = len(data)
    gaps.need("Annex IV §2(d)", "provenance: sources of every dataset version and slice", unsourced, n)
    gaps.need("Annex IV §2(d)", "content digests", [d.id for d in data if d.digest is None], n)
    gaps.need("Annex IV §2(d)", "row counts", [d.id for d in data if d.row_count is None], n)
    gaps.need(
        "Annex IV §2(d)",
        "dataset locations",
        [d.id for d in p.dataset_versions if d.uri is None],
        len(p.dataset_versions),
    )
    gaps.need("Art. 10(2)", "source licences", [s.id for s in p.sources if s.license is None], len(p.sources))
    if p.slices:
        gaps.need(
            "Annex IV §2(d)",
            "selection (slice predicates)",
            [s.id for s in p.slices if s.predicate is None],
            len(p.slices),
        )
    table = Table(
        "Every dataset version and slice this version came from",
        (
            "Data",
            "Digest",
            "Rows",
            "Location",
            "Sources — licence",
            "Derived from / selected by",
            "Used by (role)",
        ),
        tuple(rows),
        "No dataset version or slice is recorded upstream of this version.",
        short=(2,),
    )
    source_table = Table(
        "Sources",
        ("Source", "Kind", "Location", "Owner", "Licence", "Status as of the date"),
        tuple((s.id, s.kind, s.uri, s.owner, s.license, _status(s, p.as_of)) for s in p.sources),
        "No source is recorded upstream of this version.",
        short=(1,),
    )
    for item, heading in (
        ("labelling procedures", "Annex IV §2(d)"),
        ("data cleaning methodology", "Annex IV §2(d)"),
        ("examination for possible biases", "Art. 10(2)"),
        ("assumptions about the data", "Art. 10(2)"),
    ):
        gaps.need(heading, item, [])
    obtained = Facts(
        (
            ("Obtained from (sources by kind)", lines(_by_kind(p.sources))),
            (
                "Selected by (slice predicates)",
                lines(f"{s.id}: {s.predicate}" for s in p.slices if s.predicate),
            ),
            ("Preparation steps recorded", lines(_preparation(p))),
            ("Labelling procedures", None),
            ("Data cleaning methodology (a described procedure)", None),
            ("Examination for possible biases (Art. 10(2))", None),
            ("Assumptions about the data (Art. 10(2))", None),
        ),
        "How the data was obtained, selected and prepared",
    )
    note = Note(
        "The preparation steps are the transforms and runs the graph records; the graph holds no written "
        "labelling or cleaning procedure, so those are not recorded.",
        "gap",
    )
    return Section(
        "data",
        "Training data: provenance, scope and characteristics",
        ("Annex IV §2(d)", "Art. 10(2)"),
        (table, source_table, obtained, note),
    )


def _licence(source: Source | None) -> str:
    return "licence not recorded" if source is None or source.license is None else source.license


def _status(source: Source, as_of: datetime) -> str:
    if source.excluded_at is not None and source.excluded_at <= as_of:
        return (
            f"EXCLUDED since {when(source.excluded_at)}: {source.exclusion_reason or 'reason not recorded'}"
        )
    return "in use"


def _derivation(d: DatasetVersion | Slice) -> str | None:
    if isinstance(d, Slice):
        return f"predicate: {d.predicate}" if d.predicate else None
    steps = [
        f"{x.from_id} — {x.transform if x.transform else 'transform not recorded'}" for x in d.derived_from
    ]
    if d.generated_by:
        steps.append(f"generated by {d.generated_by}")
    if not steps and d.source_ids:
        return "none: taken from its sources"
    return lines(steps)


def _by_kind(sources: list[Source]) -> list[str]:
    kinds: dict[str, list[str]] = {}
    for s in sources:
        kinds.setdefault(s.kind, []).append(s.name)
    return [f"{kind}: {', '.join(names)}" for kind, names in sorted(kinds.items())]


def _preparation(p: ModelVersionProvenance) -> list[str]:
    steps = [
        f"{d.id} from {x.from_id}: {x.transform}"
        for d in p.dataset_versions
        for x in d.derived_from
        if x.transform
    ]
    steps += [f"{r.id}: {r.kind.value.lower()} run" for r in p.runs if r.kind.value == "PREPROCESS"]
    return steps
