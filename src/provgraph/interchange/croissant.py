"""Croissant 1.x JSON-LD dataset descriptions → provgraph, written through the SDK (`provgraph import croissant`).

The file is validated with `mlcroissant`, the MLCommons reference library (the `croissant` extra), and
nothing is written unless it is valid. What it states becomes (see the README's "Importing" section):

- **Dataset** `to_name(name)` (or `--dataset`), with the description.
- **DatasetVersion** `version` (or `--version`); uri = `url`; digest from the distribution's `sha256`
  values: one top-level FileObject → `sha256:<its sha256>`, several → `sha256:` + the SHA-256 of their
  lower-case hex digests sorted and each followed by a line feed. Files inside another (`containedIn`)
  are covered by their container. No digest unless every top-level FileObject has a 64-hex `sha256` and
  every FileSet lies in a container. rowCount only from a stated count: the one data RecordSet's
  cardinality annotation (wikidata Q4049983) or its inline `data`.
- **Slices** where the description declares subsets: the splits (a RecordSet of dataType `cr:Split`,
  referenced by a field of another RecordSet), one slice `<recordSet>/<split>` per declared split,
  predicate `<field> = '<split>'`, rowCount only when the records are inline.
- **Sources**: every `prov:wasDerivedFrom` object anywhere in the file (kind `dataset` when typed a
  dataset — dcat:Dataset; an sc:Dataset confuses mlcroissant 1.1.1 —, `url` when known by a URL, else
  `entity`; named after its URL, else its identifier or name; its own licence and description, if stated,
  but never the importing file's); and, when the RAI
  data-collection fields are present, `<dataset>/<version>/collection` (kind from a single
  `rai:dataCollectionType`, else `data-collection`; description from `rai:dataCollection`, the types and
  `rai:dataCollectionRawData`; licence = the dataset's licences, as this dataset's own collected data).
Names follow provgraph's rule through `to_name`. What the file does not say stays empty; what it says that
has no place in provgraph is listed in the plan's notes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provgraph.client import Client, ConflictError
from provgraph.interchange._croissant_read import (
    UNMAPPED,
    CroissantError,
    InvalidCroissant,
    SlicePlan,
    SourcePlan,
    clean,
    collection,
    derived_sources,
    digest,
    licence_of,
    line,
    name_or_fail,
    slices,
    text,
    to_name,
    url_name,
    validate,
    version_rows,
)

__all__ = [
    "CroissantError",
    "ImportPlan",
    "ImportResult",
    "InvalidCroissant",
    "SlicePlan",
    "SourcePlan",
    "apply_plan",
    "import_croissant",
    "plan_import",
    "to_name",
    "url_name",
]


@dataclass(frozen=True)
class ImportPlan:
    """Everything one Croissant file maps to, decided before anything is written."""

    dataset: str
    description: str | None
    version: str
    uri: str | None
    digest: str | None
    row_count: int | None
    sources: tuple[SourcePlan, ...]
    slices: tuple[SlicePlan, ...]
    notes: tuple[str, ...]  # what was not mapped, and why; mlcroissant's warnings


@dataclass
class ImportResult:
    """What an import wrote: each registration's id and whether it created it (False: already recorded)."""

    plan: ImportPlan
    version_id: str
    written: list[tuple[str, bool]] = field(default_factory=list)  # (id, created) per registration
    warnings: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(created for _, created in self.written)


def plan_import(path: Path, *, dataset: str | None = None, version: str | None = None) -> ImportPlan:
    """Validate a Croissant file with mlcroissant and map it; raises CroissantError, writes nothing.
    `dataset` and `version`, when given, are used as they are (and must be provgraph names)."""
    for given, what in ((dataset, "--dataset"), (version, "--version")):
        if given is not None and not _is_name(given):
            raise CroissantError([f"{what} {given!r} is not a provgraph name (letters, digits, . _ - / +)"])
    metadata, warnings = validate(path)
    notes = [f"mlcroissant: {w}" for w in warnings]
    name = dataset or name_or_fail(text(metadata.name), "the dataset's name (give --dataset)")
    stated = None if metadata.version is None else str(metadata.version)
    if version is None and stated is None:
        raise CroissantError(["the file states no version: give --version"])
    if version is not None and stated is not None and version != stated:
        notes.append(f"version {version!r} from --version; the file says {stated!r}")
    version_name = version or name_or_fail(stated, "the version")
    if version_name != (version or stated):
        notes.append(f"version {stated!r} recorded as {version_name!r} (provgraph's name rule)")
    licences = [licence_of(x) for x in metadata.license or []]
    licence = line(", ".join(x for x in licences if x) or None, 256, notes, "license")
    own = collection(metadata, name, version_name, licence, notes)
    sources: dict[str, SourcePlan] = {}
    for source in sorted([*derived_sources(path, notes), *own], key=_source_order):
        sources.setdefault(source.name, source)  # two mentions of one source: the first in a fixed order
    if licence and not own:
        notes.append(f"license {licence!r} not recorded: a DatasetVersion has no licence in provgraph, and "
                     "the file describes no data collection to attach it to")  # fmt: skip
    if metadata.ctx.is_live_dataset:
        notes.append("isLiveDataset: its data may still change, but the version is recorded as immutable")
    if unmapped := [label for attr, label in UNMAPPED.items() if getattr(metadata, attr, None)]:
        notes.append(f"not mapped (provgraph's graph has no place for them): {', '.join(unmapped)}")
    return ImportPlan(
        dataset=name,
        description=clean(text(metadata.description), 4096, notes, "description"),
        version=version_name,
        uri=line(metadata.url, 2048, notes, "url"),
        digest=digest(metadata, notes),
        row_count=version_rows(metadata, notes),
        sources=tuple(sources.values()),
        slices=tuple(slices(metadata, notes)),
        notes=tuple(notes),
    )


def import_croissant(
    path: Path, client: Client, *, dataset: str | None = None, version: str | None = None
) -> ImportResult:
    """Validate, map and register a Croissant file through `client` (a WRITER token). Every write is an
    idempotent registration, so importing the same file again creates nothing."""
    return apply_plan(plan_import(path, dataset=dataset, version=version), client)


def apply_plan(plan: ImportPlan, client: Client) -> ImportResult:
    """Register sources, dataset, version and slices, in that order (each needs the one before)."""
    version_id = f"datasetVersion:{plan.dataset}:{plan.version}"
    result = ImportResult(plan, version_id)
    for source in plan.sources:
        facts = {"name": source.name, "kind": source.kind, "uri": source.uri, "license": source.license,
                 "description": source.description}  # fmt: skip
        _register_keeping_recorded(client, result, "registerSource", "source", facts, f"source {source.name}")
    _register_keeping_recorded(
        client, result, "registerDataset", "dataset",
        {"name": plan.dataset, "description": plan.description}, f"dataset {plan.dataset}",
    )  # fmt: skip
    _register(client, result, "registerDatasetVersion", "datasetVersion", {
        "dataset": plan.dataset, "version": plan.version, "uri": plan.uri, "digest": plan.digest,
        "rowCount": plan.row_count, "sourceIds": [f"source:{s.name}" for s in plan.sources],
    })  # fmt: skip
    for slice_ in plan.slices:
        _register(client, result, "registerSlice", "slice", {
            "datasetVersionId": version_id, "name": slice_.name, "predicate": slice_.predicate,
            "rowCount": slice_.row_count,
        })  # fmt: skip
    return result


def _is_name(value: str) -> bool:
    try:
        return to_name(value) == value  # to_name keeps a valid name as it is
    except ValueError:
        return False


def _source_order(source: SourcePlan) -> tuple[str, ...]:
    return (source.name, source.kind, source.uri or "", source.license or "", source.description or "")


def _register(
    client: Client, result: ImportResult, mutation: str, entity: str, facts: dict[str, Any]
) -> None:
    document = (
        f"mutation($input: {mutation[0].upper()}{mutation[1:]}Input!) "
        f"{{ {mutation}(input: $input) {{ created {entity} {{ id }} }} }}"
    )
    # A fresh key per write, the same on the SDK's retries: a retry after a lost reply is the same request.
    data = client.execute(
        document,
        {"input": {k: v for k, v in facts.items() if v is not None}},
        idempotency_key=uuid.uuid4().hex,
    )
    result.written.append((data[mutation][entity]["id"], bool(data[mutation]["created"])))


def _register_keeping_recorded(
    client: Client, result: ImportResult, mutation: str, entity: str, facts: dict[str, Any], what: str
) -> None:
    """Sources and datasets are shared with other files and versions, which may describe them in other
    words: what is already recorded stands (it is immutable), and this file's link to it is still made."""
    try:
        _register(client, result, mutation, entity, facts)
    except ConflictError as exc:  # a CONFLICT means it exists: link to it as recorded
        result.warnings.append(f"{what} is already recorded with another {exc.field}; kept as recorded")
        result.written.append((f"{entity}:{facts['name']}", False))
