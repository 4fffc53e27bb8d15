"""Node ids.

Every node has a stable, human-readable id built from its natural key, in the style of Marquez
(`dataset:<name>`): `<kind>:<part>[:<part>...]`. Names may not contain `:`, so an id always splits back
into its kind and key parts. Ids are validated before any query is built from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from provgraph.domain.errors import InvalidArgument

# Applied with fullmatch (a `$` anchor would also accept a trailing newline).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/+]{0,127}")
NAME_RULE = "1-128 characters: letters, digits and . _ - / +, starting with a letter or digit"


class Kind(Enum):
    """The kinds of node in the provenance graph. The value is the id prefix; `label` is the Neo4j label."""

    SOURCE = "source"
    DATASET = "dataset"
    DATASET_VERSION = "datasetVersion"
    SLICE = "slice"
    EXPERIMENT = "experiment"
    RUN = "run"
    MODEL = "model"
    MODEL_VERSION = "modelVersion"
    ENDPOINT = "endpoint"
    DEPLOYMENT = "deployment"
    INFERENCE = "inference"
    EXCLUSION_CASE = "exclusionCase"  # not provenance: what was decided after a source's exclusion
    # Not provenance either: what was decided after an erasure request. Stored as an :ExclusionCase node
    # (one mechanism, two triggers), so `label` does not name its nodes.
    ERASURE_CASE = "erasureCase"

    @property
    def label(self) -> str:
        return self.value[0].upper() + self.value[1:]

    @property
    def key_parts(self) -> int:
        return _KEY_PARTS[self]


_KEY_PARTS = {
    Kind.SOURCE: 1,
    Kind.DATASET: 1,
    Kind.DATASET_VERSION: 2,  # dataset, version
    Kind.SLICE: 3,  # dataset, version, slice name
    Kind.EXPERIMENT: 1,
    Kind.RUN: 1,
    Kind.MODEL: 1,
    Kind.MODEL_VERSION: 2,  # model, version number
    Kind.ENDPOINT: 1,
    Kind.DEPLOYMENT: 2,  # endpoint, sequence number
    Kind.INFERENCE: 1,
    Kind.EXCLUSION_CASE: 1,  # the excluded source's name (a source is excluded once)
    Kind.ERASURE_CASE: 1,  # 16 hex digits of the sha256 of its key hashes (domain/erasure.py)
}
# The kinds that are cases, not nodes of the provenance graph: lineage and references never reach them.
CASE_KINDS = (Kind.EXCLUSION_CASE, Kind.ERASURE_CASE)
_BY_PREFIX = {kind.value: kind for kind in Kind}
_BY_LABEL = {kind.label: kind for kind in Kind}


def kind_of_label(label: str) -> Kind:
    return _BY_LABEL[label]


def check_name(value: str, field: str) -> str:
    """Validate one key part (a name, a version, a client-supplied key)."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidArgument(f"{field} must be {NAME_RULE}; got {value!r}", field=field)
    return value


def make_id(kind: Kind, *parts: str | int) -> str:
    if len(parts) != kind.key_parts:
        raise ValueError(f"{kind.name} ids have {kind.key_parts} key parts, got {len(parts)}")
    return ":".join([kind.value, *(str(p) for p in parts)])


@dataclass(frozen=True)
class NodeRef:
    """A parsed id: its kind and its key parts."""

    kind: Kind
    parts: tuple[str, ...]

    @property
    def id(self) -> str:
        return make_id(self.kind, *self.parts)


def parse_id(value: str, field: str, *expected: Kind) -> NodeRef:
    """Parse and validate an id; with `expected`, the id must be of one of those kinds."""
    if not isinstance(value, str) or len(value) > 512:
        raise InvalidArgument(f"{field} is not a valid id", field=field)
    prefix, _, rest = value.partition(":")
    kind = _BY_PREFIX.get(prefix)
    if kind is None or not rest:
        known = ", ".join(f"{k.value}:…" for k in (expected or tuple(Kind)))
        raise InvalidArgument(f"{field} {value!r} is not a valid id (expected {known})", field=field)
    if expected and kind not in expected:
        names = " or ".join(k.value for k in expected)
        raise InvalidArgument(f"{field} must be a {names} id; got {value!r}", field=field)
    parts = tuple(rest.split(":"))
    if len(parts) != kind.key_parts:
        raise InvalidArgument(
            f"{field} {value!r} is malformed: a {kind.value} id has {kind.key_parts} part(s) after the prefix",
            field=field,
        )
    for part in parts:
        if not NAME_PATTERN.fullmatch(part):
            raise InvalidArgument(f"{field} {value!r} is malformed: {part!r} is not {NAME_RULE}", field=field)
    if kind in (Kind.MODEL_VERSION, Kind.DEPLOYMENT) and not parts[-1].isdigit():
        raise InvalidArgument(f"{field} {value!r} is malformed: the last part must be a number", field=field)
    return NodeRef(kind, parts)
