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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from provgraph.domain.errors import Conflict, FailedPrecondition
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
    recorded_in: str | None = None  # the write that recorded it (events of one request share it)
    hash_version: int = 2
    mac: str | None = None
    key_id: str | None = None


def event_hash(event: RegistryEvent) -> str:
    """The hash an event must carry, computed from its content and its predecessor's hash.

    Version 2 (every event recorded since) also covers `recordedAt`, the transaction time that `knownAt`
    queries answer by: back-dating when a fact was learnt breaks the chain like any other edit. Version 1
    events (recorded before) are verified as they were written."""
    content: dict[str, object] = {
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
    if event.hash_version >= 2:
        content["recordedAt"] = event.recorded_at.isoformat() if event.recorded_at else None
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


def stage_of(events: Sequence[RegistryEvent]) -> Stage:
    """A version's stage after `events` (its own, any order): the latest stage change's target."""
    changes = [e for e in events if e.kind is EventKind.STAGE_CHANGED]
    if not changes:
        return Stage.NONE
    latest = max(changes, key=lambda e: (e.at, e.seq))
    assert latest.to_stage is not None
    return latest.to_stage


@dataclass(frozen=True)
class VersionHistory:
    """A version with the registry events that concern it (what its stage is derived from)."""

    version: ModelVersion
    events: tuple[RegistryEvent, ...]

    @property
    def stage(self) -> Stage:
        return stage_of(self.events)

    def last_stage_change(self) -> RegistryEvent | None:
        changes = [e for e in self.events if e.kind is EventKind.STAGE_CHANGED]
        return max(changes, key=lambda e: (e.at, e.seq)) if changes else None


@dataclass(frozen=True)
class PlannedEvent:
    """An event a change will append (the chain fills in its position, actor and hashes)."""

    kind: EventKind
    version_id: str
    reason: str | None
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    alias: str | None = None
    previous_version_id: str | None = None


@dataclass(frozen=True)
class RegistryPlan:
    """What a registry change does: append events, or — for a repeat of a recorded change — nothing,
    answering with the recorded event instead (`repeat_of`)."""

    append: tuple[PlannedEvent, ...] = ()
    repeat_of: RegistryEvent | None = None


def plan_stage_change(
    change: StageChange,
    at: datetime,
    at_given: bool,
    target: VersionHistory,
    others: Sequence[VersionHistory],
) -> RegistryPlan:
    """The rules of a stage change, decided with the model locked.

    `at_given` says whether the change's time came from the request (an explicit `at`, or a retried
    request's pinned time) rather than from the clock: only then can the request name a recorded event."""
    version = target.version
    if at_given:
        for event in target.events:
            if event.kind is EventKind.STAGE_CHANGED and event.to_stage is change.to_stage and event.at == at:
                if change.reason is not None and change.reason != event.reason:
                    raise Conflict(
                        f"{version.id} went to {change.to_stage.value} at {at.isoformat()} with reason "
                        f"{event.reason!r}; a repeat cannot change the reason",
                        field="reason",
                    )
                return RegistryPlan(repeat_of=event)
    current = target.stage
    last = target.last_stage_change()
    if current is change.to_stage and last is not None:
        if not at_given:
            return RegistryPlan(repeat_of=last)  # "promote it" again: it is promoted; nothing to record
        raise FailedPrecondition(
            f"{version.id} is already in {current.value} (since {last.at.isoformat()})", field="stage"
        )
    check_transition(version.id, current, change.to_stage)
    if at < version.created_at:
        raise FailedPrecondition(
            f"{version.id} was created at {version.created_at.isoformat()}; its stage cannot change before that",
            field="at",
        )
    check_event_order(version.id, last.at if last else None, at)
    planned: list[PlannedEvent] = []
    if change.archive_others and change.to_stage is Stage.PRODUCTION:
        for other in others:
            if other.version.id == version.id or other.stage is not Stage.PRODUCTION:
                continue
            other_last = other.last_stage_change()
            check_event_order(other.version.id, other_last.at if other_last else None, at)
            planned.append(
                PlannedEvent(
                    EventKind.STAGE_CHANGED,
                    other.version.id,
                    f"archived when {version.id} was promoted to PRODUCTION",
                    from_stage=Stage.PRODUCTION,
                    to_stage=Stage.ARCHIVED,
                )
            )
    planned.append(
        PlannedEvent(
            EventKind.STAGE_CHANGED, version.id, change.reason, from_stage=current, to_stage=change.to_stage
        )
    )
    return RegistryPlan(append=tuple(planned))


def plan_alias_change(
    change: AliasChange,
    model_id: str,
    at: datetime,
    at_given: bool,
    alias_events: Sequence[RegistryEvent],
    target: ModelVersion | None,
) -> RegistryPlan:
    """The rules of pointing (or removing) an alias, decided with the model locked. `alias_events` are the
    alias's events so far in order; `target` is the version it should point to (None: remove)."""
    if target is not None and target.model_id != model_id:
        raise FailedPrecondition(
            f"{target.id} is not a version of {model_id}; an alias points within its model", field="versionId"
        )
    wanted = EventKind.ALIAS_SET if target is not None else EventKind.ALIAS_REMOVED
    wanted_version = target.id if target is not None else None
    if at_given:
        for event in alias_events:
            if event.kind is wanted and event.at == at and (target is None or event.version_id == target.id):
                if change.reason is not None and change.reason != event.reason:
                    raise Conflict(
                        f"alias {change.alias!r} of {model_id} was changed at {at.isoformat()} with reason "
                        f"{event.reason!r}; a repeat cannot change the reason",
                        field="reason",
                    )
                return RegistryPlan(repeat_of=event)
    latest = alias_events[-1] if alias_events else None
    current = latest.version_id if latest is not None and latest.kind is EventKind.ALIAS_SET else None
    if current == wanted_version:
        if latest is None:
            raise FailedPrecondition(f"{model_id} has no alias {change.alias!r}", field="alias")
        if not at_given:
            return RegistryPlan(repeat_of=latest)
        raise FailedPrecondition(
            f"alias {change.alias!r} of {model_id} is already "
            + (f"on {current}" if current else "removed")
            + f" (since {latest.at.isoformat()})",
            field="alias",
        )
    check_event_order(f"{model_id} alias {change.alias!r}", latest.at if latest else None, at)
    if target is None:
        assert current is not None
        planned = PlannedEvent(
            EventKind.ALIAS_REMOVED, current, change.reason, alias=change.alias, previous_version_id=current
        )
    else:
        if at < target.created_at:
            raise FailedPrecondition(
                f"{target.id} was created at {target.created_at.isoformat()}; an alias cannot point to it before that",
                field="at",
            )
        planned = PlannedEvent(
            EventKind.ALIAS_SET, target.id, change.reason, alias=change.alias, previous_version_id=current
        )
    return RegistryPlan(append=(planned,))


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
