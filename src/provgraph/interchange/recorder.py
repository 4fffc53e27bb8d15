"""Sending an importer's registrations through the SDK and counting what they did.

The SDK's typed methods return the entity but not whether the call created it; an importer must report
"created" and "already there", so it sends the SDK's own inputs (`provgraph.client._operations`) under
documents that also ask for `created`. A registration the service refuses for that item alone (a
CONFLICT with what is recorded, an invalid value, a missing reference, a stage rule) is reported as
skipped with the service's reason, and the import goes on; anything else (the service unreachable, the
token refused) stops it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from provgraph.client import (
    Client,
    ConflictError,
    FailedPreconditionError,
    InvalidArgumentError,
    LimitExceededError,
    NotFoundError,
)
from provgraph.client._call import Call

# mutation field → (its input type, the payload's entity field, what to select of the entity)
_MUTATIONS: dict[str, tuple[str, str, str]] = {
    "registerExperiment": ("RegisterExperimentInput", "experiment", "id"),
    "registerSource": ("RegisterSourceInput", "source", "id"),
    "registerDataset": ("RegisterDatasetInput", "dataset", "id"),
    "registerDatasetVersion": ("RegisterDatasetVersionInput", "datasetVersion", "id"),
    "registerRun": ("RegisterRunInput", "run", "id status"),
    "completeRun": ("CompleteRunInput", "run", "id status"),
    "registerModel": ("RegisterModelInput", "model", "id"),
    "registerModelVersion": ("RegisterModelVersionInput", "modelVersion", "id stage aliases"),
    "transitionStage": ("TransitionStageInput", "modelVersion", "id stage aliases"),
    "setAlias": ("SetAliasInput", "modelVersion", "id stage aliases"),
    "removeAlias": ("RemoveAliasInput", "modelVersion", "id stage aliases"),
}
ITEM_ERRORS = (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    FailedPreconditionError,
    LimitExceededError,
)


class ImportFailed(Exception):
    """An import could not start or had to stop; the message is one line saying why."""


# The order the summary lists kinds in.
KINDS = (
    "experiments",
    "runs",
    "run ends",
    "sources",
    "datasets",
    "dataset versions",
    "models",
    "model versions",
    "stage changes",
    "aliases",
)


@dataclass
class Summary:
    """What an import did: per kind, how many registrations created something and how many found it
    already recorded; and everything left out, each with its reason."""

    actor: str = ""
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_existing(self) -> int:
        return sum(self.existing.values())

    def lines(self) -> list[str]:
        """The summary as printed at the end of an import."""
        out = []
        for kind in [k for k in KINDS if k in self.created or k in self.existing]:
            out.append(
                f"  {kind:<17} {self.created[kind]:>6} created  {self.existing[kind]:>6} already there"
            )
        out.extend(f"  skipped: {reason}" for reason in self.skipped)
        out.append(
            f"created {self.total_created}, already there {self.total_existing}, skipped {len(self.skipped)}"
            + (f" (recorded as {self.actor})" if self.actor else "")
        )
        return out


class Recorder:
    """Sends registrations, counting each one in the summary under its kind."""

    def __init__(self, pg: Client, summary: Summary) -> None:
        self.pg = pg
        self.summary = summary

    def send(self, kind: str, what: str, call: Call[Any]) -> dict[str, Any] | None:
        """Send one SDK registration; returns the entity's selected fields, or None when the service
        refused it for this item (recorded as skipped: `what` and the service's reason)."""
        name = call.document.split("{", 1)[1].split("(", 1)[0].strip()
        input_type, entity, select = _MUTATIONS[name]
        document = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ created {entity} {{ {select} }} }} }}"
        try:
            # No idempotency key: every registration an importer sends names its facts in full, and its
            # stage and alias changes leave the time to the server, which answers a repeat of "be in this
            # stage / point here" as a no-op. So a retry after a lost reply is a repeat by content, and a
            # second import leaves no key records behind either.
            data = self.pg.execute(document, call.variables)[name]
        except ITEM_ERRORS as exc:
            self.skip(f"{what}: {exc}")
            return None
        (self.summary.created if data["created"] else self.summary.existing)[kind] += 1
        result: dict[str, Any] = data[entity]
        return result

    def skip(self, reason: str) -> None:
        self.summary.skipped.append(reason)
