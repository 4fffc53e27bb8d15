"""The API's enumerations as str Enums (the names and values of `schema.graphql`'s enums).

Every SDK method takes a member or a plain string in any case (`Stage.STAGING`, `"STAGING"`, `"staging"`),
and results carry members, which compare equal to their strings (`version.stage == "PRODUCTION"`)."""

from __future__ import annotations

from enum import Enum, StrEnum


class Stage(StrEnum):
    """A model version's stage in the registry."""

    NONE = "NONE"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"
    ARCHIVED = "ARCHIVED"


class RunKind(StrEnum):
    """What a run did."""

    TRAIN = "TRAIN"
    EVAL = "EVAL"
    PREPROCESS = "PREPROCESS"
    FINETUNE = "FINETUNE"


class RunStatus(StrEnum):
    """Where a run is: RUNNING until it is completed as FINISHED or FAILED."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"


class InputRole(StrEnum):
    """What a run used an input for."""

    TRAIN = "TRAIN"
    VALIDATION = "VALIDATION"
    TEST = "TEST"
    OTHER = "OTHER"


class Direction(StrEnum):
    """Which way a lineage query walks: towards what a node came from, what came from it, or both."""

    UPSTREAM = "UPSTREAM"
    DOWNSTREAM = "DOWNSTREAM"
    BOTH = "BOTH"


class ExclusionDecisionKind(StrEnum):
    """What was decided about a model version a source's exclusion affects."""

    RETRAIN = "RETRAIN"
    RETIRE = "RETIRE"
    ACCEPT = "ACCEPT"


class Certainty(StrEnum):
    """How surely data holds a record: DEFINITELY (an exact set of key hashes or a registered row range),
    or POSSIBLY (a Bloom filter's hit, or inherited through a key-preserving transform)."""

    DEFINITELY = "DEFINITELY"
    POSSIBLY = "POSSIBLY"


class MembershipBasis(StrEnum):
    """Why data is said to hold a record: what the answer's certainty rests on."""

    EXACT_SET = "EXACT_SET"
    FILTER = "FILTER"
    ROW_RANGE = "ROW_RANGE"
    INHERITED = "INHERITED"


class RegistryEventKind(StrEnum):
    """What a registry event recorded."""

    REGISTERED = "REGISTERED"
    STAGE_CHANGED = "STAGE_CHANGED"
    ALIAS_SET = "ALIAS_SET"
    ALIAS_REMOVED = "ALIAS_REMOVED"


def wire(value: str) -> str:
    """The value the API expects for an enum argument: a member's value, or a string upper-cased (the
    server still validates it, so a value this SDK does not know yet is passed through)."""
    return str(value.value) if isinstance(value, Enum) else value.upper()
