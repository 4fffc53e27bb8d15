"""Reading a Croissant file for `croissant.py`: validation with mlcroissant, and each mapping rule (the
rules are documented there). Nothing here writes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/+]{0,127}")  # provgraph's rule (domain/ids.py)
_NOT_NAME = re.compile(r"[^A-Za-z0-9._\-/+]+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(//)?")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what the service refuses in text
# Local `@id`s ("squad1") resolve against this base, so they can be told apart from real IRIs.
_LOCAL = "https://croissant.local.invalid/"
_PROV = "http://www.w3.org/ns/prov#"
_SCHEMA = ("https://schema.org/", "http://schema.org/")
_SPLIT = {
    "http://mlcommons.org/croissant/Split",
    "http://www.wikidata.org/entity/Q3985153",
    "https://www.wikidata.org/wiki/Q3985153",
}
_DATASET = {s + "Dataset" for s in _SCHEMA} | {"http://www.w3.org/ns/dcat#Dataset"}
_ENUMERATION = {s + "Enumeration" for s in _SCHEMA}
_CARDINALITY = {"http://www.wikidata.org/entity/Q4049983", "https://www.wikidata.org/wiki/Q4049983"}
# Stated in Croissant, but with no place in provgraph's graph: listed in the notes when present.
UNMAPPED = {
    "date_published": "datePublished", "date_created": "dateCreated", "date_modified": "dateModified",
    "creators": "creator", "publisher": "publisher", "keywords": "keywords", "cite_as": "citeAs",
    "in_language": "inLanguage", "same_as": "sameAs", "sd_licence": "sdLicense", "sd_version": "sdVersion",
    "data_collection_timeframe": "rai:dataCollectionTimeframe",
    "data_collection_missing_data": "rai:dataCollectionMissingData",
    "data_imputation_protocol": "rai:dataImputationProtocol",
    "data_preprocessing_protocol": "rai:dataPreprocessingProtocol",
    "data_manipulation_protocol": "rai:dataManipulationProtocol",
    "data_annotation_protocol": "rai:dataAnnotationProtocol",
    "data_annotation_platform": "rai:dataAnnotationPlatform",
    "data_annotation_analysis": "rai:dataAnnotationAnalysis", "annotations_per_item": "rai:annotationsPerItem",
    "annotator_demographics": "rai:annotatorDemographics", "machine_annotation_tools": "rai:machineAnnotationTools",
    "data_biases": "rai:dataBiases", "data_use_cases": "rai:dataUseCases", "data_limitations": "rai:dataLimitations",
    "data_social_impact": "rai:dataSocialImpact",
    "personal_sensitive_information": "rai:personalSensitiveInformation",
    "data_release_maintenance_plan": "rai:dataReleaseMaintenancePlan",
}  # fmt: skip


class CroissantError(Exception):
    """The file cannot be imported as it is (each reason says why); nothing was written."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


class InvalidCroissant(CroissantError):
    """mlcroissant found validation errors."""


@dataclass(frozen=True)
class SourcePlan:
    """A Source to register (what the file says about it, nothing more)."""

    name: str
    kind: str
    uri: str | None = None
    license: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class SlicePlan:
    """A Slice of the imported version: one declared split of one record set."""

    name: str
    predicate: str
    row_count: int | None = None


def to_name(text: str) -> str:
    """Croissant names and ids as provgraph names, deterministically: a valid name is kept; otherwise
    accents are dropped (NFKD), every run of other characters becomes '-', leading non-alphanumerics and
    trailing '-', '.', '/' go, and a name over 128 characters keeps 115 plus '-' and 12 hex of its SHA-256."""
    if _NAME.fullmatch(text):
        return text
    name = _NOT_NAME.sub("-", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())
    name = re.sub(r"^[^A-Za-z0-9]+", "", name).rstrip("-./")
    if not name:
        raise ValueError(f"{text!r} has no letter or digit to make a provgraph name of")
    if len(name) > 128:
        name = name[:115].rstrip("-./") + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return name


def url_name(url: str) -> str:
    """A URL's name: without its scheme (`https://a.org/x` → `a.org/x`, `urn:x:y` → `x-y`)."""
    return to_name(_SCHEME.sub("", url))


def validate(path: Path) -> tuple[Any, list[str]]:
    """The file's mlcroissant `Metadata` and warnings, as the official `mlcroissant validate` checks it."""
    try:
        import mlcroissant as mlc  # type: ignore[import-untyped]  # heavy (pandas, scipy): only when used
    except ImportError as exc:
        raise CroissantError(["mlcroissant is not installed: pip install 'provgraph[croissant]'"]) from exc
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))  # a clear reason for a file that is not JSON
        with _quiet():
            metadata = mlc.Dataset(jsonld=str(path)).metadata
    except mlc.ValidationError as exc:
        raise InvalidCroissant(_reasons(str(exc))) from exc
    except (OSError, ValueError) as exc:
        raise InvalidCroissant([f"cannot read {path}: {exc}"]) from exc
    # What mlcroissant raises on JSON that is not Croissant at all (a list, a number, no @context, …).
    except (KeyError, TypeError, AttributeError, AssertionError) as exc:
        raise InvalidCroissant([f"mlcroissant cannot read it as Croissant: {exc!r}"]) from exc
    _check_root(raw, metadata)
    return metadata, sorted(metadata.ctx.issues.warnings)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """mlcroissant logs its warnings through absl (`validate` returns them instead), and rdflib 7.x's own
    JSON-LD parser uses its deprecated ConjunctiveGraph, which no caller can change."""
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
            yield
    finally:
        absl.setLevel(level)


def _check_root(raw: Any, metadata: Any) -> None:
    """mlcroissant 1.1.1 takes the first schema.org Dataset node it meets as the dataset, and a
    `prov:wasDerivedFrom` entity typed `sc:Dataset` can be met first: then it validated the wrong node."""
    stated = raw.get("name") if isinstance(raw, dict) else None
    if isinstance(stated, str) and text(metadata.name) != stated:
        raise InvalidCroissant([
            f"mlcroissant read the node named {text(metadata.name)!r} as the dataset instead of {stated!r}: "
            "type the entities it was derived from prov:Entity rather than sc:Dataset"
        ])  # fmt: skip


def _reasons(report: str) -> list[str]:
    """The errors of mlcroissant's report ("Found the following N error(s) …:\n  -  …"), without its warnings."""
    reasons: list[str] = []
    section = ""
    for line in report.splitlines():
        if line.startswith("Found the following"):
            section = "error" if "error(s)" in line else "warning"
        elif line.startswith("  -  ") and section == "error":
            reasons.append(line[5:])
        elif reasons and section == "error" and line.strip():
            reasons[-1] += "\n" + line
    return reasons or [report]


def text(value: Any) -> str | None:
    """A Croissant text, which 1.1 allows as a language map: English, else the first language."""
    if isinstance(value, dict):
        return str(value.get("en") or value[min(value)]) if value else None
    return None if value is None else str(value)


def name_or_fail(value: str | None, what: str) -> str:
    try:
        return to_name(value or "")
    except ValueError as exc:
        raise CroissantError([f"{what}: {exc}"]) from exc


def clean(text: str | None, limit: int, notes: list[str], what: str) -> str | None:
    """Text as the service accepts it: no control characters, at most `limit` characters (noted if cut)."""
    cleaned = _NOT_TEXT.sub("", text or "").strip()
    if not cleaned:
        return None
    if len(cleaned) > limit:
        notes.append(f"{what} cut to {limit} characters (provgraph's limit)")
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned


def line(text: str | None, limit: int, notes: list[str], what: str) -> str | None:
    value = " ".join((text or "").split())
    if value and len(value) > limit:
        notes.append(f"{what} not recorded: longer than {limit} characters")
        return None
    return value or None


def licence_of(value: Any) -> str:
    return value if isinstance(value, str) else str(getattr(value, "url", None) or text(value.name) or "")


def digest(metadata: Any, notes: list[str]) -> str | None:
    digests = []
    for resource in metadata.distribution:
        if resource.contained_in:
            continue  # its bytes are inside its container's, which carries the checksum
        sha = getattr(resource, "sha256", None)  # FileSets have none
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            notes.append(f"no digest: {type(resource).__name__} {resource.uuid!r} has no SHA-256"
                         + (f" ({sha!r} is not one)" if sha else ""))  # fmt: skip
            return None
        digests.append(sha.lower())
    if not digests:
        return None
    if len(digests) == 1:
        return f"sha256:{digests[0]}"
    return "sha256:" + hashlib.sha256("".join(f"{d}\n" for d in sorted(digests)).encode()).hexdigest()


def _types(node: Any) -> set[str]:
    return {str(t) for t in node.data_types or []}


def _inline_count(record_set: Any) -> int | None:
    """A record count the description states: inline records, or a cardinality annotation."""
    if record_set.data is not None:
        return len(record_set.data)
    for annotation in record_set.annotations or []:
        value = annotation.value
        if _types(annotation) & _CARDINALITY and isinstance(value, int) and not isinstance(value, bool):
            return value if value >= 0 else None
    return None


def version_rows(metadata: Any, notes: list[str]) -> int | None:
    data_sets = [rs for rs in metadata.record_sets if not _types(rs) & (_SPLIT | _ENUMERATION)]
    counts = {rs.uuid: _inline_count(rs) for rs in data_sets}
    if len(data_sets) == 1:
        return counts[data_sets[0].uuid]
    if any(c is not None for c in counts.values()):
        notes.append("rowCount not recorded: record counts are stated per record set "
                     f"({', '.join(sorted(counts))}) and a version over several has none")  # fmt: skip
    return None


def slices(metadata: Any, notes: list[str]) -> Iterator[SlicePlan]:
    """One slice per declared split of each record set a split field partitions."""
    splits: dict[str, list[Any]] = {}  # the key field of a split record set → the split names it lists
    for rs in metadata.record_sets:
        if _types(rs) & _SPLIT:
            keys = [str(k) for k in rs.key or []]
            key = (
                keys[0]
                if len(keys) == 1
                else next((f.uuid for f in rs.fields if f.uuid.endswith("/name")), None)
            )
            if key is None:
                notes.append(f"split record set {rs.uuid!r} has no single key naming its splits: no slices")
            elif rs.data is None:
                notes.append(
                    f"splits of {rs.uuid!r} are listed in a data file, not in the description: no slices"
                )
            else:
                splits[key] = [row.get(key) for row in rs.data]
    seen: set[str] = set()
    for rs in metadata.record_sets:
        if _types(rs) & _SPLIT:
            continue
        for f in rs.fields:
            ref = getattr(f.references, "field", None) or getattr(f.references, "uuid", None)
            if ref in splits:
                values = splits[ref]
            elif _types(f) & _SPLIT and rs.data is not None:
                values = [row.get(f.uuid) for row in rs.data]
            elif _types(f) & _SPLIT:
                notes.append(f"{f.uuid!r} splits {rs.uuid!r} by values in its data files: no slices")
                continue
            else:
                continue
            for value in dict.fromkeys(str(v) for v in values if v is not None):
                name = to_name(f"{rs.uuid}/{value}")
                if name in seen:
                    notes.append(
                        f"split {value!r} of {rs.uuid!r} maps to the name {name!r} taken already: skipped"
                    )
                    continue
                seen.add(name)
                rows = None if rs.data is None else sum(str(r.get(f.uuid)) == value for r in rs.data)
                yield SlicePlan(name, f"{f.uuid} = {value!r}", rows)


def collection(
    metadata: Any, dataset: str, version: str, licence: str | None, notes: list[str]
) -> list[SourcePlan]:
    """The RAI data-collection fields, where present, as the source of this version's own data."""
    types = [t for t in metadata.data_collection_type or [] if t]
    parts = [
        text(metadata.data_collection),
        f"Data collection type: {', '.join(types)}." if types else None,
        f"Raw data: {text(metadata.data_collection_raw_data)}" if metadata.data_collection_raw_data else None,
    ]
    if not any(parts):
        return []
    kind = re.sub(r"[^a-z0-9]+", "-", types[0].lower()).strip("-")[:32].rstrip("-") if len(types) == 1 else ""
    description = clean("\n\n".join(p for p in parts if p), 4096, notes, "the collection's description")
    return [SourcePlan(
        to_name(f"{dataset}/{version}/collection"),
        kind if re.fullmatch(r"[a-z][a-z0-9_\-]{0,31}", kind) else "data-collection",
        license=licence,
        description=description,
    )]  # fmt: skip


def derived_sources(path: Path, notes: list[str]) -> Iterator[SourcePlan]:
    """Every object of `prov:wasDerivedFrom`, found through JSON-LD processing so that any prefix or alias
    of the PROV namespace is understood (mlcroissant keeps PROV properties only as opaque extras)."""
    import rdflib

    with _quiet():
        graph = rdflib.Graph().parse(data=path.read_text(encoding="utf-8"), format="json-ld", base=_LOCAL)

    def first(node: Any, *terms: str) -> str | None:
        for term in terms:
            for value in sorted(graph.objects(node, rdflib.URIRef(term)), key=str):  # a fixed choice
                return str(value)
        return None

    for entity in set(graph.objects(None, rdflib.URIRef(_PROV + "wasDerivedFrom"))):
        literal = str(entity) if isinstance(entity, rdflib.Literal) else None  # a plain string: URL or name
        iri = str(entity) if isinstance(entity, rdflib.URIRef) else None
        local = iri[len(_LOCAL) :] if iri and iri.startswith(_LOCAL) else None
        location = first(entity, _PROV + "atLocation", _PROV + "locatedAt", *(s + "url" for s in _SCHEMA))
        uri = (
            location or (None if local else iri) or (literal if literal and _SCHEME.match(literal) else None)
        )
        label = first(entity, *(s + "name" for s in _SCHEMA), _PROV + "label") or (None if uri else literal)
        types = {str(t) for t in graph.objects(entity, rdflib.RDF.type)}
        kind = "dataset" if types & _DATASET else "url" if uri and "://" in uri else "entity"
        raw_name = uri or local or label
        if raw_name is None:
            notes.append(
                "a prov:wasDerivedFrom entity with neither an identifier, a URL nor a name: not mapped"
            )
            continue
        licences = sorted(
            str(x) for s in _SCHEMA for x in graph.objects(entity, rdflib.URIRef(s + "license"))
        )
        description = first(entity, *(s + "description" for s in _SCHEMA)) or label
        yield SourcePlan(
            url_name(raw_name) if uri else to_name(raw_name),
            kind,
            uri=line(uri, 2048, notes, f"the URL of {raw_name}"),
            license=line(", ".join(licences) or None, 256, notes, f"the license of {raw_name}"),
            description=clean(description, 4096, notes, f"the description of {raw_name}"),
        )
    other = sorted({str(p)[len(_PROV) :] for p in graph.predicates() if str(p).startswith(_PROV)}
                   - {"wasDerivedFrom", "atLocation", "locatedAt", "label"})  # fmt: skip
    if other:
        notes.append(f"prov:{', prov:'.join(other)} not mapped: a PROV activity or agent is not a provgraph run "
                     "(which needs a key, a status and times) and provgraph has no agents")  # fmt: skip
