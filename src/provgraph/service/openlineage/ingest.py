"""Taking in OpenLineage events (see mapping.py for what becomes what).

Every event is validated against the specification's JSON schemas before anything is written; a batch
with one invalid event is refused whole. A valid event is then applied step by step through the same use
cases as every other write — so the same idempotency, immutability and audit rules hold — and kept
verbatim last: an event already kept is a repeat and changes nothing, and an event whose application
failed half-way (the database went away) is applied again on retry, each step being idempotent.

Events may arrive out of order. A run first seen through a COMPLETE event is recorded, already finished,
starting at its nominal start time (or at that event's time); when its START arrives later, the start is
moved earlier (a fact of its own in the runs ledger). Inputs reported after the run's first event are
added to it. Outputs are recorded from COMPLETE events, when the data exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from provgraph.domain.catalog import DatasetSpec, DatasetVersionSpec
from provgraph.domain.errors import InvalidArgument, ProvgraphError
from provgraph.domain.ids import Kind, make_id
from provgraph.domain.records import Caller
from provgraph.domain.registry import ModelSpec, ModelVersionSpec
from provgraph.domain.runs import InputRole, RunCompletion, RunInput, RunSpec, RunStatus
from provgraph.service import validate as v
from provgraph.service.catalog import CatalogService
from provgraph.service.openlineage import mapping
from provgraph.service.openlineage.mapping import DatasetRef, RunPlan
from provgraph.service.openlineage.schemas import event_problems
from provgraph.service.registry import RegistryService
from provgraph.service.runs import RunService
from provgraph.store.catalog import CatalogStore
from provgraph.store.openlineage import OpenLineageStore
from provgraph.store.registry import RegistryStore
from provgraph.store.runs import RunStore


@dataclass(frozen=True)
class EventOutcome:
    index: int
    event_id: str
    outcome: str  # RECORDED, DUPLICATE, or the code of the error that refused it
    reason: str | None = None
    run_id: str | None = None


class OpenLineageService:
    """Parameters: the use cases events are applied through, and the stores the mapping reads."""

    def __init__(
        self,
        catalog: CatalogService,
        runs: RunService,
        registry: RegistryService,
        events: OpenLineageStore,
        catalog_store: CatalogStore,
        run_store: RunStore,
        registry_store: RegistryStore,
        max_batch: int = 1000,
    ) -> None:
        self.catalog = catalog
        self.runs = runs
        self.registry = registry
        self.events = events
        self.catalog_store = catalog_store
        self.run_store = run_store
        self.registry_store = registry_store
        self.max_batch = max_batch

    def validate(self, events: Sequence[Any]) -> None:
        """Refuse the whole batch (INVALID_ARGUMENT, with the schema's reasons) if any event is invalid."""
        if not events:
            raise InvalidArgument("no OpenLineage event in the body", field="events")
        if len(events) > self.max_batch:
            raise InvalidArgument(
                f"a batch may hold at most {self.max_batch} events; got {len(events)}", field="events"
            )
        reasons: list[str] = []
        for index, event in enumerate(events):
            problems = event_problems(event)
            if not problems and isinstance(event, dict):
                problems = _semantic_problems(event)
            reasons += [f"event {index}: {p}" for p in problems]
        if reasons:
            raise InvalidArgument("; ".join(reasons[:20]), field="events")

    async def ingest(self, events: Sequence[Any], caller: Caller) -> list[EventOutcome]:
        """Validate then apply a batch, event by event; an event refused by a rule (a run that already
        ended otherwise) is reported with its code and the others land."""
        self.validate(events)
        outcomes = []
        for index, event in enumerate(events):
            event_id = mapping.event_id(event)
            try:
                if await self.events.seen(event_id):
                    outcomes.append(EventOutcome(index, event_id, "DUPLICATE", run_id=_run_id(event)))
                    continue
                run_id, described = await self._apply(event, caller)
                await self.events.record_event(
                    event_id,
                    json.dumps(event, sort_keys=True, separators=(",", ":")),
                    event.get("eventType"),
                    str(event["eventTime"]),
                    run_id,
                    described,
                    v.new_stamp(caller),
                )
                outcomes.append(EventOutcome(index, event_id, "RECORDED", run_id=run_id))
            except ProvgraphError as exc:
                if exc.code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
                    raise
                outcomes.append(EventOutcome(index, event_id, exc.code, exc.message, _run_id(event)))
        return outcomes

    async def _apply(self, event: dict[str, Any], caller: Caller) -> tuple[str | None, list[dict[str, str]]]:
        kind = mapping.event_kind(event)
        if kind == "RunEvent":
            plan = mapping.run_plan(event)
            return await self._apply_run(plan, caller)
        event_time = mapping.parse_time(str(event["eventTime"]))
        raws = (
            [event["dataset"]]
            if kind == "DatasetEvent"
            else [*(event.get("inputs") or []), *(event.get("outputs") or [])]
        )
        described = []
        for raw in raws:
            ref = mapping.dataset_ref(raw, event_time, None, output=False)
            await self._dataset(ref, caller)
            if ref.version is not None:  # a version the event names: recorded, without a producing run
                version_id = await self._version(ref, None, event_time, caller)
                described.append(_mention(ref, version_id, "dataset"))
        return None, described

    async def _apply_run(self, plan: RunPlan, caller: Caller) -> tuple[str, list[dict[str, str]]]:
        described: list[dict[str, str]] = []
        inputs: list[RunInput] = []
        base_model: str | None = None
        run_id = make_id(Kind.RUN, plan.run_key)
        existing = (await self.runs.runs_by_ids([run_id])).get(run_id)
        # An input without a version facet is the version this run already used from that dataset, if an
        # earlier event of the run named it (events of one run may arrive in any order).
        used = {i.id.split(":")[1]: i.id for i in existing.inputs} if existing else {}
        for ref in plan.inputs:
            if ref.is_model:
                found = await self.registry_store.version_by_artifact(
                    make_id(Kind.MODEL, ref.dataset), _artifact(ref)
                )
                base_model = base_model or (found.id if found else None)
                continue
            await self._dataset(ref, caller)
            if ref.version is None and ref.dataset in used:
                version_id = used[ref.dataset]
            else:
                version_id = await self._version(ref, None, plan.event_time, caller)
            inputs.append(RunInput(version_id, InputRole.OTHER))
            described.append(_mention(ref, version_id, "input"))
        if existing is None:
            terminal = plan.status is not None and plan.status.terminal
            spec = RunSpec(
                key=plan.run_key,
                kind=plan.kind,
                experiment=plan.experiment,
                status=plan.status if terminal and plan.status else RunStatus.RUNNING,
                started_at=plan.started_hint,
                ended_at=plan.event_time if terminal else None,
                params=plan.params,
                code=plan.code,
                inputs=tuple(inputs),
                parent=make_id(Kind.RUN, plan.parent_run_key) if plan.parent_run_key else None,
                error=plan.error if terminal else None,
            )
            await self.runs.register_run(spec, caller)
        else:
            if inputs:
                await self.run_store.add_run_inputs(run_id, inputs, v.new_stamp(caller))
            if plan.event_type == "START" and plan.event_time < existing.started_at:
                await self.run_store.correct_run_start(run_id, plan.event_time, v.new_stamp(caller))
            if plan.status is not None and plan.status.terminal:
                await self.runs.complete_run(
                    RunCompletion(run_id, plan.status, plan.event_time, error=plan.error), caller
                )
        if plan.event_type == "COMPLETE":
            for ref in plan.outputs:
                if ref.is_model:
                    await self._model_version(ref, run_id, base_model, plan.event_time, caller)
                    continue
                await self._dataset(ref, caller)
                version_id = await self._version(ref, run_id, plan.event_time, caller)
                described.append(_mention(ref, version_id, "output"))
        return run_id, described

    async def _dataset(self, ref: DatasetRef, caller: Caller) -> None:
        if ref.source is not None:
            await self.catalog.register_source(ref.source, caller)
        await self.catalog.register_dataset(
            DatasetSpec(ref.dataset, description=f"OpenLineage dataset {ref.namespace}/{ref.name}"[:4096]),
            caller,
        )

    async def _version(self, ref: DatasetRef, run_id: str | None, at: datetime, caller: Caller) -> str:
        """The dataset version an event means, recorded if new."""
        dataset_id = make_id(Kind.DATASET, ref.dataset)
        version = ref.version
        if version is None:
            latest = await self.catalog_store.latest_version(dataset_id, at)
            if latest is not None:
                return latest
            version = ref.fallback_version
        version_id = make_id(Kind.DATASET_VERSION, ref.dataset, version)
        found = await self.catalog.dataset_versions_by_ids([version_id])
        if version_id in found:
            return version_id  # recorded before (by its producer, or an earlier event)
        spec = DatasetVersionSpec(
            dataset=ref.dataset,
            version=version,
            uri=f"{ref.namespace}/{ref.name}"[:2048],
            schema=ref.schema,
            created_at=at,
            source_ids=(make_id(Kind.SOURCE, ref.source.name),) if ref.source else (),
            generated_by=run_id,
        )
        return (await self.catalog.register_dataset_version(spec, caller)).entity.id

    async def _model_version(
        self, ref: DatasetRef, run_id: str, base: str | None, at: datetime, caller: Caller
    ) -> None:
        await self.registry.register_model(ModelSpec(ref.dataset), caller)
        spec = ModelVersionSpec(
            model=ref.dataset,
            artifact_uri=_artifact(ref),
            trained_by=run_id,
            fine_tuned_from=base,
            created_at=at,
        )
        await self.registry.register_model_version(spec, caller)

    async def facets_of_runs(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The latest run and job facets each run's events carried (verbatim)."""
        found = {}
        for run_id, bodies in (await self.events.events_of_runs(ids)).items():
            if bodies:
                found[run_id] = {
                    "run": _merged(b.get("run", {}).get("facets") for b in bodies),
                    "job": _merged(b.get("job", {}).get("facets") for b in bodies),
                }
        return found

    async def facets_of_dataset_versions(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The latest dataset, input and output facets the events carried for each dataset version."""
        found = {}
        for version_id, mentions in (await self.events.events_of_dataset_versions(ids)).items():
            if not mentions:
                continue
            datasets, inputs, outputs = [], [], []
            for mention in mentions:
                for raw in _datasets_in(mention["body"], mention["side"]):
                    if raw.get("namespace") == mention["namespace"] and raw.get("name") == mention["name"]:
                        datasets.append(raw.get("facets"))
                        inputs.append(raw.get("inputFacets"))
                        outputs.append(raw.get("outputFacets"))
            found[version_id] = {
                "dataset": _merged(datasets),
                "input": _merged(inputs),
                "output": _merged(outputs),
            }
        return found


def _datasets_in(body: dict[str, Any], side: str) -> list[dict[str, Any]]:
    if side == "dataset":
        dataset = body.get("dataset")
        return [dataset] if isinstance(dataset, dict) else []
    return [d for d in body.get("inputs" if side == "input" else "outputs") or [] if isinstance(d, dict)]


def _merged(facet_maps: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for facets in facet_maps:
        if isinstance(facets, dict):
            merged.update(facets)  # a later event's facet of the same name is the newer one
    return merged


def _mention(ref: DatasetRef, version_id: str, side: str) -> dict[str, str]:
    return {"id": version_id, "side": side, "namespace": ref.namespace, "name": ref.name}


def _artifact(ref: DatasetRef) -> str:
    return f"{ref.namespace}/{ref.name}@{ref.version or 'unversioned'}"[:2048]


def _run_id(event: Any) -> str | None:
    run = event.get("run") if isinstance(event, dict) else None
    return (
        make_id(Kind.RUN, "ol-" + str(run["runId"])) if isinstance(run, dict) and run.get("runId") else None
    )


def _semantic_problems(event: dict[str, Any]) -> list[str]:
    """What the JSON schema cannot say: times provgraph can place on a timeline."""
    problems = []
    try:
        mapping.parse_time(str(event.get("eventTime")))
    except InvalidArgument as exc:
        problems.append(f"$.eventTime: {exc.message}")
    return problems
