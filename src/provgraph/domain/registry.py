"""The model registry: models, their numbered versions, stages, aliases and the append-only event log.

Stage rules (the transitions a version may make; anything else is FAILED_PRECONDITION):

    NONE       → STAGING, ARCHIVED
    STAGING    → PRODUCTION, ARCHIVED, NONE
    PRODUCTION → STAGING, ARCHIVED
    ARCHIVED   → STAGING

A version reaches production only through staging, and an archived version must be re-validated in
staging before it can serve again. Several versions of a model may be in production at once (canaries);
`archiveOthers` archives the rest when one is promoted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from provgraph.domain.errors import FailedPrecondition
from provgraph.domain.records import Recorded


class Stage(Enum):
    NONE = "NONE"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"
    ARCHIVED = "ARCHIVED"


ALLOWED_TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.NONE: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.ARCHIVED, Stage.NONE}),
    Stage.PRODUCTION: frozenset({Stage.STAGING, Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset({Stage.STAGING}),
}


class EventKind(Enum):
    REGISTERED = "REGISTERED"
    STAGE_CHANGED = "STAGE_CHANGED"
    ALIAS_SET = "ALIAS_SET"
    ALIAS_REMOVED = "ALIAS_REMOVED"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    description: str | None
    owner: str | None
    recorded: Recorded


@dataclass(frozen=True)
class ModelVersionSpec:
    """A new version of a model. Idempotent on (model, artifact_uri): the artifact is the version."""

    model: str
    artifact_uri: str
    framework: str | None = None
    size_bytes: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    trained_by: str | None = None  # run id
    fine_tuned_from: str | None = None  # model version id
    tags: tuple[str, ...] = ()
    description: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class ModelVersion:
    id: str
    model_id: str
    version: int
    artifact_uri: str
    framework: str | None
    size_bytes: int | None
    metrics: dict[str, float]
    trained_by: str | None
    fine_tuned_from: str | None
    tags: tuple[str, ...]
    description: str | None
    created_at: datetime
    stage: Stage
    aliases: tuple[str, ...]
    recorded: Recorded


@dataclass(frozen=True)
class RegistryEvent:
    """One append-only fact about a model's registry: who did what, when, why.

    Events of a model form a hash chain: each stores the hash of the one before, so changing or removing
    any stored event breaks every hash after it."""

    id: str
    model_id: str
    seq: int
    kind: EventKind
    version_id: str
    at: datetime
    actor: str
    reason: str | None
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    alias: str | None = None
    previous_version_id: str | None = None  # where a moved alias pointed before
    prev_hash: str | None = None
    hash: str | None = None
    recorded_at: datetime | None = None


def event_hash(event: RegistryEvent) -> str:
    """The hash an event must carry, computed from its content and its predecessor's hash."""
    content = {
        "id": event.id,
        "modelId": event.model_id,
        "seq": event.seq,
        "kind": event.kind.value,
        "versionId": event.version_id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "reason": event.reason,
        "fromStage": event.from_stage.value if event.from_stage else None,
        "toStage": event.to_stage.value if event.to_stage else None,
        "alias": event.alias,
        "previousVersionId": event.previous_version_id,
        "prevHash": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class StageChange:
    version_id: str
    to_stage: Stage
    reason: str | None = None
    at: datetime | None = None
    archive_others: bool = False


@dataclass(frozen=True)
class AliasChange:
    model: str
    alias: str
    version_id: str | None  # None removes the alias
    reason: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class ModelVersionFilter:
    model: str | None = None
    stage: Stage | None = None
    alias: str | None = None
    tag: str | None = None
    metric: str | None = None
    metric_min: float | None = None
    metric_max: float | None = None


def check_transition(version_id: str, current: Stage, target: Stage) -> None:
    """Raise FailedPrecondition unless the stage rules allow `current → target`."""
    if current is target:
        raise FailedPrecondition(f"{version_id} is already in {target.value}", field="stage")
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))
        raise FailedPrecondition(
            f"{version_id} cannot go from {current.value} to {target.value}; from {current.value} it may go to {allowed}",
            field="stage",
        )


def check_event_order(subject: str, last_at: datetime | None, at: datetime) -> None:
    """A version's stages, and each alias, form a timeline appended in order: a change cannot take
    effect before the last change of the same thing (that would rewrite history, not extend it)."""
    if last_at is not None and at < last_at:
        raise FailedPrecondition(
            f"the last change of {subject} took effect at {last_at.isoformat()}; a new change cannot be "
            f"dated earlier ({at.isoformat()})",
            field="at",
        )
