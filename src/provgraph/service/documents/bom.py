"""What both AI-BOMs (SPDX 3.0 and CycloneDX 1.6) read from a model version's gathered provenance.

`BomFacts.of(provenance)` reads, once, the facts the two formats write in their own vocabularies: the
model versions (the subject and the versions it was fine-tuned from, each with its training run's
parameters, metrics, code and environment), every dataset version and slice upstream with its digest,
location, derivation and the sources it came from (and so their licences), the sources with their
exclusions, and the packages the training environments held. Nothing is filled in: a fact the graph does
not hold stays None or empty, and each format's completeness says so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from license_expression import ExpressionError, get_spdx_licensing  # type: ignore[import-untyped]

from provgraph.domain.catalog import Dataset, DatasetVersion, Slice, Source
from provgraph.domain.documents import Completeness
from provgraph.domain.ids import Kind, parse_id
from provgraph.domain.lineage import Edge, Entity
from provgraph.domain.registry import Model, ModelVersion
from provgraph.domain.runs import InputRole, Run
from provgraph.service.documents.gather import ModelVersionProvenance

# Edges that carry data (and so its sources' licences) from one dataset version or slice to another.
_DATA_EDGES = frozenset({"DERIVED_FROM", "SUBSET_OF", "FROM_SOURCE", "GENERATED_BY", "USED"})

# The hex length of each digest algorithm a BOM can state as a hash; other digests are kept as text.
_HEX_LENGTH = {
    "md5": 32,
    "sha1": 40,
    "sha256": 64,
    "sha384": 96,
    "sha512": 128,
    "sha3-256": 64,
    "sha3-384": 96,
    "sha3-512": 128,
    "blake2b-256": 64,
    "blake2b-384": 96,
    "blake2b-512": 128,
    "blake3": 64,
}
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True)
class Digest:
    """A recorded content digest (`sha256:ab12…`). `algorithm` is normalised (`sha3-256`, `sha256`);
    `well_formed` says whether it is a whole digest of a known algorithm, so a BOM may state it as a hash."""

    raw: str
    algorithm: str | None
    value: str

    @property
    def well_formed(self) -> bool:
        return (
            self.algorithm is not None
            and len(self.value) == _HEX_LENGTH[self.algorithm]
            and bool(_HEX.fullmatch(self.value))
        )

    @staticmethod
    def parse(raw: str | None) -> Digest | None:
        if not raw:
            return None
        name, sep, value = raw.partition(":")
        if not sep:
            return Digest(raw, None, raw.lower())
        algorithm = name.strip().lower().replace("_", "-")
        algorithm = {"sha-1": "sha1", "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512"}.get(
            algorithm, algorithm
        )
        return Digest(raw, algorithm if algorithm in _HEX_LENGTH else None, value.strip().lower())


@dataclass(frozen=True)
class Licence:
    """A licence as a source recorded it. `expression` is the SPDX licence expression when the text
    parses as one (with known identifiers only); otherwise the text is not an SPDX licence and a BOM names
    it as a `LicenseRef-` (SPDX) or by name (CycloneDX), never as some licence it might resemble."""

    raw: str
    expression: str | None

    @property
    def spdx_expression(self) -> str:
        return self.expression or self.licence_ref

    @property
    def licence_ref(self) -> str:
        return "LicenseRef-provgraph-" + (re.sub(r"[^A-Za-z0-9.\-]+", "-", self.raw).strip("-") or "unnamed")

    @staticmethod
    def parse(raw: str) -> Licence:
        return Licence(raw, _spdx_expression(raw))


# A licence the SPDX list does not hold is still an SPDX expression when it is named as a reference.
_LICENCE_REF = re.compile(r"(DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+")


@cache
def _spdx_expression(raw: str) -> str | None:
    """The canonical SPDX expression `raw` is, or None when it is not one (bad syntax, or a name that is
    neither on the SPDX licence list nor a `LicenseRef-`)."""
    licensing = get_spdx_licensing()
    try:
        parsed = licensing.parse(raw, strict=True)
    except ExpressionError:
        return None
    if parsed is None or any(not _LICENCE_REF.fullmatch(k) for k in licensing.unknown_license_keys(parsed)):
        return None
    return str(parsed)


@dataclass(frozen=True)
class SourceLicence:
    """Which source a licence came from; `licence` is None when the source recorded none."""

    source: Source
    licence: Licence | None


@dataclass(frozen=True)
class DataFacts:
    """A dataset version or a slice, as a BOM lists it."""

    id: str
    kind: Kind  # DATASET_VERSION or SLICE
    name: str  # the dataset's name, and for a slice its name after a slash: `reviews/train`
    version: str
    digest: Digest | None
    uri: str | None
    row_count: int | None
    created_at: datetime
    owner: str | None  # the dataset's owner, as recorded
    description: str | None
    predicate: str | None  # a slice's
    parents: tuple[
        tuple[str, str | None], ...
    ]  # (dataset version it came from, transform) or its slice's parent
    generated_by: str | None  # the run that produced it
    sources: tuple[SourceLicence, ...]  # every source it came from, directly or through what it derives from
    direct_sources: tuple[str, ...]

    @property
    def licences(self) -> tuple[Licence, ...]:
        """The distinct licences of its sources, or () when any source recorded none (then no licence
        can be stated for the data without inventing one)."""
        if not self.sources or any(s.licence is None for s in self.sources):
            return ()
        seen: dict[str, Licence] = {}
        for s in self.sources:
            assert s.licence is not None
            seen.setdefault(s.licence.raw, s.licence)
        return tuple(seen.values())

    @property
    def preprocessing(self) -> list[str]:
        """How it was made from what it came from: transforms, a slice's predicate."""
        steps = []
        for parent, transform in self.parents:
            if self.kind is Kind.SLICE:
                steps.append(f"subset of {parent}" + (f" where {self.predicate}" if self.predicate else ""))
            else:
                steps.append(f"derived from {parent}" + (f" by {transform!r}" if transform else ""))
        return steps


@dataclass(frozen=True)
class PackageFacts:
    """Something a training environment held: a Python package, the framework, the interpreter, the image."""

    purpose: str  # library, framework, platform, container
    name: str
    version: str | None
    purl: str | None  # pkg:pypi/… for packages listed as name==version
    digest: Digest | None  # a container image's
    used_by: tuple[str, ...]  # the model versions whose training run used it

    @property
    def id(self) -> str:
        return f"package:{self.purpose}:{self.name}" + (f"@{self.version}" if self.version else "")


@dataclass(frozen=True)
class ModelFacts:
    version: ModelVersion
    name: str  # the model's name
    model: Model | None
    run: Run | None  # the run that trained it
    inputs: tuple[tuple[str, InputRole], ...]  # what its run used, by role
    base_id: str | None  # fine-tuned from
    metrics: tuple[tuple[str, str], ...]  # the version's, then its run's where they add to them
    preprocessing: tuple[str, ...]  # every step its data went through, nearest first

    @property
    def id(self) -> str:
        return self.version.id

    @property
    def params(self) -> list[tuple[str, str]]:
        return sorted(self.run.params.items()) if self.run else []

    def used(self, *roles: InputRole) -> list[str]:
        return [i for i, role in self.inputs if role in roles]

    @property
    def owner(self) -> str | None:
        return self.model.owner if self.model else None

    @property
    def training(self) -> str | None:
        """The training run in one paragraph: key, kind, times, code, environment."""
        run = self.run
        if run is None:
            return None
        parts = [
            f"run {run.key} ({run.id}), {run.kind.value.lower()}, {run.status.value.lower()}, "
            f"started {run.started_at.isoformat()}"
            + (f", ended {run.ended_at.isoformat()}" if run.ended_at else "")
        ]
        code = run.code
        if code.repo or code.commit or code.entrypoint:
            where = code.repo or "repository not recorded"
            parts.append(
                f"code {where}"
                + (f" at commit {code.commit}" if code.commit else "")
                + (f", entrypoint {code.entrypoint}" if code.entrypoint else "")
                + (", with uncommitted changes" if code.dirty else "")
            )
        env = run.environment
        held = [
            f"image {env.image_digest}" if env.image_digest else "",
            f"python {env.python}" if env.python else "",
            " ".join(x for x in (env.framework, env.framework_version) if x),
            f"{len(env.packages)} packages" if env.packages else "",
        ]
        if any(held):
            parts.append("environment " + ", ".join(h for h in held if h))
        if run.inputs:
            parts.append(
                "data " + ", ".join(f"{i.id} ({i.role.value.lower()})" for i in sorted(run.inputs, key=_key))
            )
        return "; ".join(parts)


def _key(run_input: object) -> str:
    return str(getattr(run_input, "id", ""))


@dataclass(frozen=True)
class BomFacts:
    subject: ModelFacts
    bases: tuple[ModelFacts, ...]  # the versions it was fine-tuned from, nearest first
    data: tuple[DataFacts, ...]  # by id
    sources: tuple[Source, ...]  # by id
    packages: tuple[PackageFacts, ...]
    as_of: datetime
    known_at: datetime
    is_partial: bool
    exclusions: dict[str, Source] = field(default_factory=dict)  # excluded sources (as of), by id

    @property
    def models(self) -> tuple[ModelFacts, ...]:
        return (self.subject, *self.bases)

    def data_by_id(self) -> dict[str, DataFacts]:
        return {d.id: d for d in self.data}

    def sources_of(self, model: ModelFacts) -> list[Source]:
        """Every source a model version's data came from (its bases' are theirs)."""
        by_id = self.data_by_id()
        found = {s.source.id: s.source for i, _ in model.inputs if i in by_id for s in by_id[i].sources}
        return [found[k] for k in sorted(found)]

    @staticmethod
    def of(provenance: ModelVersionProvenance) -> BomFacts:
        return _read(provenance)


def document_uuid(kind: str, provenance: ModelVersionProvenance) -> uuid.UUID:
    """The same document (kind, subject, as of, as known at) always gets the same id."""
    name = "|".join(
        (
            "provgraph",
            kind,
            provenance.model_version.id,
            provenance.as_of.isoformat(),
            provenance.known_at.isoformat(),
        )
    )
    return uuid.uuid5(uuid.NAMESPACE_URL, name)


def completeness(
    model_fields: Iterable[str],
    model_has: Mapping[str, bool],
    dataset_fields: Iterable[str],
    data_has: Mapping[str, Callable[[DataFacts], object]],
    used: Sequence[DataFacts],
) -> Completeness:
    """A format's recommended fields split into those the document fills and those it does not: a model
    field by `model_has`, a dataset field only when there is data and every dataset used has it."""
    checks = [(f"model.{name}", model_has.get(name, False)) for name in model_fields]
    checks += [
        (f"dataset.{name}", bool(used) and name in data_has and all(data_has[name](d) for d in used))
        for name in dataset_fields
    ]
    present = tuple(name for name, ok in checks if ok)
    missing = tuple(name for name, ok in checks if not ok)
    return Completeness(present, missing)


def _read(provenance: ModelVersionProvenance) -> BomFacts:
    graph = provenance.upstream
    nodes = graph.nodes
    out: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        out.setdefault(edge.from_id, []).append(edge)
    known = provenance.known_at

    def source_of(node_id: str) -> Source | None:
        found = nodes.get(node_id)
        return found.as_known(known) if isinstance(found, Source) else None

    def sources_reached(start: str) -> list[Source]:
        seen, stack, found = {start}, [start], {}
        while stack:
            for edge in out.get(stack.pop(), []):
                if edge.type not in _DATA_EDGES or edge.to_id in seen:
                    continue
                seen.add(edge.to_id)
                source = source_of(edge.to_id)
                if source is not None:
                    found[source.id] = source
                else:
                    stack.append(edge.to_id)
        return [found[k] for k in sorted(found)]

    data = [_data_facts(n, nodes, out, sources_reached(n.id)) for n in _data_nodes(nodes.values())]
    data.sort(key=lambda d: d.id)
    by_id = {d.id: d for d in data}

    versions = [n for n in nodes.values() if isinstance(n, ModelVersion)]
    chain = _fine_tune_chain(provenance.model_version, {v.id: v for v in versions})
    models = [_model_facts(v, nodes, by_id, known) for v in chain]
    sources = sorted(
        (s for s in (source_of(i) for i in nodes) if s is not None),
        key=lambda s: s.id,
    )
    excluded = {s.id: s for s in sources if s.excluded_at is not None and s.excluded_at <= provenance.as_of}
    return BomFacts(
        subject=models[0],
        bases=tuple(models[1:]),
        data=tuple(data),
        sources=tuple(sources),
        packages=_packages(models),
        as_of=provenance.as_of,
        known_at=provenance.known_at,
        is_partial=graph.is_partial,
        exclusions=excluded,
    )


def _data_nodes(nodes: Iterable[Entity]) -> list[DatasetVersion | Slice]:
    return [n for n in nodes if isinstance(n, DatasetVersion | Slice)]


def _data_facts(
    node: DatasetVersion | Slice,
    nodes: dict[str, Entity],
    out: dict[str, list[Edge]],
    sources: list[Source],
) -> DataFacts:
    if isinstance(node, Slice):
        parent = nodes.get(node.dataset_version_id)
        dataset_id = parent.dataset_id if isinstance(parent, DatasetVersion) else None
        parent_ref = parse_id(node.dataset_version_id, "id")
        name = f"{parent_ref.parts[0]}/{node.name}"
        version = parent_ref.parts[1]
        parents: tuple[tuple[str, str | None], ...] = ((node.dataset_version_id, None),)
        kind, uri, generated_by, predicate = Kind.SLICE, None, None, node.predicate
        if isinstance(parent, DatasetVersion):
            uri = parent.uri  # a slice lives where its dataset version does
    else:
        dataset_id = node.dataset_id
        name, version = parse_id(node.dataset_id, "id").parts[0], node.version
        parents = tuple((d.from_id, d.transform) for d in sorted(node.derived_from, key=lambda d: d.from_id))
        kind, uri, generated_by, predicate = Kind.DATASET_VERSION, node.uri, node.generated_by, None
    dataset = nodes.get(dataset_id or "")
    direct = tuple(sorted(e.to_id for e in out.get(node.id, []) if e.type == "FROM_SOURCE"))
    return DataFacts(
        id=node.id,
        kind=kind,
        name=name,
        version=version,
        digest=Digest.parse(node.digest),
        uri=uri,
        row_count=node.row_count,
        created_at=node.created_at,
        owner=dataset.owner if isinstance(dataset, Dataset) else None,
        description=dataset.description if isinstance(dataset, Dataset) else None,
        predicate=predicate,
        parents=parents,
        generated_by=generated_by,
        sources=tuple(SourceLicence(s, Licence.parse(s.license) if s.license else None) for s in sources),
        direct_sources=direct,
    )


def _fine_tune_chain(subject: ModelVersion, versions: dict[str, ModelVersion]) -> list[ModelVersion]:
    chain, current = [subject], subject
    while current.fine_tuned_from and current.fine_tuned_from in versions and len(chain) <= len(versions):
        current = versions[current.fine_tuned_from]
        chain.append(current)
    return chain


def _model_facts(
    version: ModelVersion, nodes: dict[str, Entity], data: dict[str, DataFacts], known_at: datetime
) -> ModelFacts:
    model = nodes.get(version.model_id)
    run = nodes.get(version.trained_by or "")
    run = run.as_known(known_at) if isinstance(run, Run) else None
    inputs = tuple(sorted(((i.id, i.role) for i in run.inputs), key=lambda x: x[0])) if run else ()
    metrics = [(k, _number(v)) for k, v in sorted(version.metrics.items())]
    if run is not None:
        metrics += [
            (k if k not in version.metrics else f"{k} (run {run.key})", _number(v))
            for k, v in sorted(run.metrics.items())
            if version.metrics.get(k) != v
        ]
    steps: list[str] = []
    stack = [i for i, _ in reversed(inputs)]
    seen: set[str] = set()
    while stack:
        current = data.get(stack.pop())
        if current is None or current.id in seen:
            continue
        seen.add(current.id)
        steps += [f"{current.id}: {step}" for step in current.preprocessing]
        stack += [p for p, _ in reversed(current.parents)]
    return ModelFacts(
        version=version,
        name=model.name if isinstance(model, Model) else parse_id(version.model_id, "id").parts[0],
        model=model if isinstance(model, Model) else None,
        run=run,
        inputs=inputs,
        base_id=version.fine_tuned_from,
        metrics=tuple(metrics),
        preprocessing=tuple(steps),
    )


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _packages(models: list[ModelFacts]) -> tuple[PackageFacts, ...]:
    """What the training environments held, one entry per (kind, name, version), with who used it."""
    found: dict[tuple[str, str, str | None], tuple[str | None, Digest | None, set[str]]] = {}

    def add(
        purpose: str, name: str, version: str | None, purl: str | None, digest: Digest | None, by: str
    ) -> None:
        key = (purpose, name, version)
        old = found.get(key)
        found[key] = (purl or (old[0] if old else None), digest, (old[2] if old else set()) | {by})

    for model in models:
        run = model.run
        if run is None:
            continue
        env = run.environment
        listed = {}
        for spec in env.packages:
            name, sep, version = spec.partition("==")
            name, version = name.strip(), version.strip()
            if sep and name and version:
                listed[name.lower()] = (name, version)
            else:  # a requirement without a pinned version: its name, as recorded
                add("library", spec.strip(), None, None, None, model.id)
        framework = (env.framework or "").strip()
        for lowered, (name, version) in sorted(listed.items()):
            purpose = (
                "framework"
                if lowered == framework.lower() and (env.framework_version or version) == version
                else "library"
            )
            add(purpose, name, version, _purl(name, version), None, model.id)
        if framework and not (
            framework.lower() in listed
            and listed[framework.lower()][1] == (env.framework_version or listed[framework.lower()][1])
        ):
            add("framework", framework, env.framework_version, None, None, model.id)
        if env.python:
            add("platform", "python", env.python, None, None, model.id)
        if env.image_digest:
            # An image is known by its digest; it has no other name in the graph.
            add("container", env.image_digest, None, None, Digest.parse(env.image_digest), model.id)
    return tuple(
        PackageFacts(purpose, name, version, purl, digest, tuple(sorted(by)))
        for (purpose, name, version), (purl, digest, by) in sorted(
            found.items(), key=lambda kv: (kv[0][0], kv[0][1].lower(), kv[0][2] or "")
        )
    )


def _purl(name: str, version: str) -> str:
    # The purl spec's pypi type: lower-case, underscores as dashes.
    return f"pkg:pypi/{re.sub(r'[-_.]+', '-', name).lower()}@{version}"
