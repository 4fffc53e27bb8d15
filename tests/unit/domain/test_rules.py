"""The pure rules, without a database: stage and alias plans, the traffic sweep, what an entity looked like
as known at a time, and the content the ledgers chain."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from provgraph.domain import facts as f
from provgraph.domain.catalog import DatasetVersion, Derivation, Source
from provgraph.domain.errors import Conflict, FailedPrecondition
from provgraph.domain.facts import FactKind, LedgerEntry, Scope, entry_hash
from provgraph.domain.records import Recorded
from provgraph.domain.registry import (
    ALLOWED_TRANSITIONS,
    AliasChange,
    EventKind,
    ModelVersion,
    PlannedEvent,
    RegistryEvent,
    Stage,
    StageChange,
    VersionHistory,
    event_hash,
    plan_alias_change,
    plan_stage_change,
)
from provgraph.domain.runs import Code, Environment, Run, RunKind, RunStatus
from provgraph.domain.serving import Deployment, Inference, peak_traffic


def t(month: int, day: int = 1, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


JULY = t(7)
RECORDED = Recorded(JULY, "pipeline")


def version(n: int = 1, model: str = "m", created: datetime | None = None) -> ModelVersion:
    return ModelVersion(
        id=f"modelVersion:{model}:{n}",
        model_id=f"model:{model}",
        version=n,
        artifact_uri=f"s3://{model}/{n}",
        framework=None,
        size_bytes=None,
        metrics={},
        trained_by=None,
        fine_tuned_from=None,
        tags=(),
        description=None,
        created_at=created or t(1),
        stage=Stage.NONE,
        aliases=(),
        recorded=RECORDED,
    )


class Chain:
    """Builds a model's events in order, as the store would number them."""

    def __init__(self, model: str = "m") -> None:
        self.model = model
        self.events: list[RegistryEvent] = []

    def add(self, kind: EventKind, version_id: str, at: datetime, **fields: object) -> RegistryEvent:
        seq = len(self.events) + 1
        event = RegistryEvent(
            id=f"event:{self.model}:{seq}",
            model_id=f"model:{self.model}",
            seq=seq,
            kind=kind,
            version_id=version_id,
            at=at,
            actor="pipeline",
            reason=fields.pop("reason", None),  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )
        self.events.append(event)
        return event

    def stage(self, v: ModelVersion, to: Stage, at: datetime, reason: str | None = None) -> RegistryEvent:
        before = VersionHistory(v, tuple(self.of(v))).stage
        return self.add(EventKind.STAGE_CHANGED, v.id, at, from_stage=before, to_stage=to, reason=reason)

    def alias(
        self, alias: str, v: ModelVersion | None, at: datetime, reason: str | None = None
    ) -> RegistryEvent:
        current = self.alias_target(alias)
        if v is None:
            assert current is not None
            return self.add(
                EventKind.ALIAS_REMOVED, current, at, alias=alias, previous_version_id=current, reason=reason
            )
        return self.add(
            EventKind.ALIAS_SET, v.id, at, alias=alias, previous_version_id=current, reason=reason
        )

    def of(self, v: ModelVersion) -> list[RegistryEvent]:
        return [e for e in self.events if e.version_id == v.id and e.kind is EventKind.STAGE_CHANGED]

    def history(self, v: ModelVersion) -> VersionHistory:
        return VersionHistory(v, tuple(self.of(v)))

    def alias_events(self, alias: str) -> list[RegistryEvent]:
        return [e for e in self.events if e.alias == alias]

    def alias_target(self, alias: str) -> str | None:
        events = self.alias_events(alias)
        if not events or events[-1].kind is EventKind.ALIAS_REMOVED:
            return None
        return events[-1].version_id


def plan_stage(
    chain: Chain,
    v: ModelVersion,
    to: Stage,
    at: datetime,
    at_given: bool = True,
    others: list[ModelVersion] | None = None,
    **change: object,
) -> tuple[tuple[PlannedEvent, ...], RegistryEvent | None]:
    plan = plan_stage_change(
        StageChange(v.id, to, at=at if at_given else None, **change),  # type: ignore[arg-type]
        at,
        at_given,
        chain.history(v),
        [chain.history(o) for o in (others or [])],
    )
    return plan.append, plan.repeat_of


# ---------------------------------------------------------------------------------------------------------
# Stage changes


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Stage, Stage)))
def test_every_transition_follows_the_table(current: Stage, target: Stage) -> None:
    chain = Chain()
    v = version()
    path = {
        Stage.NONE: [],
        Stage.STAGING: [Stage.STAGING],
        Stage.PRODUCTION: [Stage.STAGING, Stage.PRODUCTION],
        Stage.ARCHIVED: [Stage.ARCHIVED],
    }[current]
    for month, stage in enumerate(path, start=2):
        chain.stage(v, stage, t(month))
    assert chain.history(v).stage is current
    if current is target:
        with pytest.raises(FailedPrecondition) as already:
            plan_stage(chain, v, target, t(6))
        assert already.value.field == "stage"
        return
    if target in ALLOWED_TRANSITIONS[current]:
        append, repeat = plan_stage(chain, v, target, t(6))
        assert repeat is None
        assert append == (
            PlannedEvent(EventKind.STAGE_CHANGED, v.id, None, from_stage=current, to_stage=target),
        )
    else:
        with pytest.raises(FailedPrecondition) as refused:
            plan_stage(chain, v, target, t(6))
        assert refused.value.field == "stage"
        allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current]))
        assert f"may go to {allowed}" in refused.value.message


def test_the_table_reaches_production_only_through_staging() -> None:
    assert {s for s, targets in ALLOWED_TRANSITIONS.items() if Stage.PRODUCTION in targets} == {Stage.STAGING}
    assert ALLOWED_TRANSITIONS[Stage.ARCHIVED] == frozenset({Stage.STAGING})


def test_a_repeat_at_the_same_time_is_the_recorded_event() -> None:
    chain = Chain()
    v = version()
    staged = chain.stage(v, Stage.STAGING, t(2), reason="eval passed")
    assert plan_stage(chain, v, Stage.STAGING, t(2)) == ((), staged)
    assert plan_stage(chain, v, Stage.STAGING, t(2), reason="eval passed") == ((), staged)
    with pytest.raises(Conflict) as other_reason:
        plan_stage(chain, v, Stage.STAGING, t(2), reason="another reason")
    assert other_reason.value.field == "reason"


def test_replaying_an_older_change_is_a_repeat_not_a_bounce() -> None:
    chain = Chain()
    v = version()
    staged = chain.stage(v, Stage.STAGING, t(2))
    promoted = chain.stage(v, Stage.PRODUCTION, t(3))
    assert plan_stage(chain, v, Stage.STAGING, t(2)) == ((), staged)
    assert plan_stage(chain, v, Stage.PRODUCTION, t(3)) == ((), promoted)
    # The same move at a new time is a new fact (PRODUCTION → STAGING is allowed).
    append, repeat = plan_stage(chain, v, Stage.STAGING, t(4))
    assert repeat is None and [e.to_stage for e in append] == [Stage.STAGING]


def test_already_in_the_stage_without_a_time_is_the_last_change_and_with_a_new_time_is_refused() -> None:
    chain = Chain()
    v = version()
    chain.stage(v, Stage.STAGING, t(2))
    promoted = chain.stage(v, Stage.PRODUCTION, t(3))
    assert plan_stage(chain, v, Stage.PRODUCTION, t(6), at_given=False) == ((), promoted)
    with pytest.raises(FailedPrecondition) as refused:
        plan_stage(chain, v, Stage.PRODUCTION, t(6))
    assert refused.value.field == "stage"
    assert t(3).isoformat() in refused.value.message


@pytest.mark.parametrize("at_given", [True, False])
def test_a_change_cannot_predate_the_version_or_its_last_change(at_given: bool) -> None:
    chain = Chain()
    v = version(created=t(2))
    with pytest.raises(FailedPrecondition) as too_early:
        plan_stage(chain, v, Stage.STAGING, t(1), at_given=at_given)
    assert too_early.value.field == "at"
    chain.stage(v, Stage.STAGING, t(4))
    with pytest.raises(FailedPrecondition) as before_last:
        plan_stage(chain, v, Stage.PRODUCTION, t(3), at_given=at_given)
    assert before_last.value.field == "at"
    # At the same instant as the last change is still in order.
    append, _ = plan_stage(chain, v, Stage.PRODUCTION, t(4), at_given=at_given)
    assert [e.to_stage for e in append] == [Stage.PRODUCTION]


def test_archive_others_archives_the_other_production_versions_first() -> None:
    chain = Chain()
    v1, v2, v3, v4 = (version(n) for n in (1, 2, 3, 4))
    for v in (v1, v2, v3, v4):
        chain.stage(v, Stage.STAGING, t(2))
    chain.stage(v1, Stage.PRODUCTION, t(3))
    chain.stage(v2, Stage.PRODUCTION, t(3))
    append, repeat = plan_stage(
        chain, v4, Stage.PRODUCTION, t(5), others=[v1, v2, v3, v4], archive_others=True, reason="better"
    )
    assert repeat is None
    assert [(e.version_id, e.from_stage, e.to_stage) for e in append] == [
        (v1.id, Stage.PRODUCTION, Stage.ARCHIVED),
        (v2.id, Stage.PRODUCTION, Stage.ARCHIVED),
        (v4.id, Stage.STAGING, Stage.PRODUCTION),
    ]
    assert append[0].reason == f"archived when {v4.id} was promoted to PRODUCTION"
    assert append[-1].reason == "better"
    # Without archiveOthers, or when not promoting, nobody else moves.
    assert len(plan_stage(chain, v4, Stage.PRODUCTION, t(5), others=[v1, v2, v3])[0]) == 1
    assert len(plan_stage(chain, v4, Stage.ARCHIVED, t(5), others=[v1, v2], archive_others=True)[0]) == 1


def test_archive_others_cannot_archive_a_version_before_its_own_last_change() -> None:
    chain = Chain()
    v1, v2 = version(1), version(2)
    chain.stage(v1, Stage.STAGING, t(2))
    chain.stage(v1, Stage.PRODUCTION, t(5))
    chain.stage(v2, Stage.STAGING, t(2))
    with pytest.raises(FailedPrecondition) as refused:
        plan_stage(chain, v2, Stage.PRODUCTION, t(4), others=[v1], archive_others=True)
    assert refused.value.field == "at"
    assert v1.id in refused.value.message


def test_the_stage_is_the_latest_change_by_time_then_sequence() -> None:
    chain = Chain()
    v = version()
    chain.stage(v, Stage.STAGING, t(2))
    chain.stage(v, Stage.PRODUCTION, t(3))
    history = chain.history(v)
    assert history.stage is Stage.PRODUCTION
    reordered = VersionHistory(v, tuple(reversed(history.events)))
    assert reordered.stage is Stage.PRODUCTION  # any order of events
    assert VersionHistory(v, ()).stage is Stage.NONE


# ---------------------------------------------------------------------------------------------------------
# Aliases


def plan_alias(
    chain: Chain,
    alias: str,
    target: ModelVersion | None,
    at: datetime,
    at_given: bool = True,
    **change: object,
) -> tuple[tuple[PlannedEvent, ...], RegistryEvent | None]:
    plan = plan_alias_change(
        AliasChange("m", alias, target.id if target else None, at=at if at_given else None, **change),  # type: ignore[arg-type]
        "model:m",
        at,
        at_given,
        chain.alias_events(alias),
        target,
    )
    return plan.append, plan.repeat_of


def test_setting_moving_and_removing_an_alias() -> None:
    chain = Chain()
    v1, v2 = version(1), version(2)
    append, _ = plan_alias(chain, "champion", v1, t(2))
    assert append == (
        PlannedEvent(EventKind.ALIAS_SET, v1.id, None, alias="champion", previous_version_id=None),
    )
    chain.alias("champion", v1, t(2))
    append, _ = plan_alias(chain, "champion", v2, t(3), reason="promoted")
    assert append == (
        PlannedEvent(EventKind.ALIAS_SET, v2.id, "promoted", alias="champion", previous_version_id=v1.id),
    )
    chain.alias("champion", v2, t(3))
    append, _ = plan_alias(chain, "champion", None, t(4))
    assert append == (
        PlannedEvent(EventKind.ALIAS_REMOVED, v2.id, None, alias="champion", previous_version_id=v2.id),
    )


def test_alias_repeats_are_the_recorded_events() -> None:
    chain = Chain()
    v1, v2 = version(1), version(2)
    first = chain.alias("champion", v1, t(2), reason="launch")
    moved = chain.alias("champion", v2, t(3))
    removed = chain.alias("champion", None, t(4))
    # The same changes at the same times, even the older ones: nothing to record.
    assert plan_alias(chain, "champion", v1, t(2)) == ((), first)
    assert plan_alias(chain, "champion", v2, t(3)) == ((), moved)
    assert plan_alias(chain, "champion", None, t(4)) == ((), removed)
    # "Remove it now" while removed: the recorded removal.
    assert plan_alias(chain, "champion", None, t(6), at_given=False) == ((), removed)
    with pytest.raises(Conflict) as reason:
        plan_alias(chain, "champion", v1, t(2), reason="another")
    assert reason.value.field == "reason"


def test_pointing_an_alias_where_it_already_points() -> None:
    chain = Chain()
    v1 = version(1)
    set_event = chain.alias("champion", v1, t(2))
    assert plan_alias(chain, "champion", v1, t(5), at_given=False) == ((), set_event)
    with pytest.raises(FailedPrecondition) as refused:
        plan_alias(chain, "champion", v1, t(5))
    assert refused.value.field == "alias"


@pytest.mark.parametrize("at_given", [True, False])
def test_removing_an_alias_never_set_is_refused(at_given: bool) -> None:
    chain = Chain()
    chain.alias("champion", version(1), t(2))
    with pytest.raises(FailedPrecondition) as refused:
        plan_alias(chain, "challenger", None, t(5), at_given=at_given)
    assert refused.value.field == "alias"


def test_alias_rules_on_versions_and_times() -> None:
    chain = Chain()
    foreign = version(1, model="other")
    with pytest.raises(FailedPrecondition) as elsewhere:
        plan_alias(chain, "champion", foreign, t(2))
    assert elsewhere.value.field == "versionId"
    late = version(2, created=t(3))
    with pytest.raises(FailedPrecondition) as too_early:
        plan_alias(chain, "champion", late, t(2))
    assert too_early.value.field == "at"
    chain.alias("champion", version(1), t(4))
    with pytest.raises(FailedPrecondition) as before_last:
        plan_alias(chain, "champion", late, t(3, 15))
    assert before_last.value.field == "at"


# ---------------------------------------------------------------------------------------------------------
# Traffic


def deployment(
    n: int,
    start: datetime,
    end: datetime | None,
    share: float,
    recorded_at: datetime = JULY,
    end_recorded_at: datetime | None = None,
) -> Deployment:
    return Deployment(
        id=f"deployment:ep:{n}",
        endpoint_id="endpoint:ep",
        model_version_id=f"modelVersion:m:{n}",
        started_at=start,
        ended_at=end,
        traffic_share=share,
        reason=None,
        end_reason="done" if end else None,
        recorded=Recorded(recorded_at, "pipeline"),
        end_recorded_at=end_recorded_at if end_recorded_at or end is None else recorded_at,
    )


def test_peak_traffic_with_nothing_live_is_zero_at_the_start() -> None:
    assert peak_traffic(t(3), None, []) == (0.0, t(3))
    assert peak_traffic(t(3), t(4), [deployment(1, t(1), t(2), 1.0), deployment(2, t(5), None, 1.0)]) == (
        0.0,
        t(3),
    )


def test_peak_traffic_sums_what_overlaps_and_finds_the_first_peak() -> None:
    live = [
        deployment(1, t(1), t(3), 0.5),  # before the window, ends inside it
        deployment(2, t(2, 15), None, 0.3),
        deployment(3, t(4), t(5), 0.4),
        deployment(4, t(6), None, 0.3),
    ]
    # [Feb 1, …): 0.5 → 0.8 (Feb 15) → 0.3 (Mar 1) → 0.7 (Apr 1) → 0.3 (May 1) → 0.6 (Jun 1)
    peak, at = peak_traffic(t(2), None, live)
    assert (round(peak, 9), at) == (0.8, t(2, 15))
    # A closed window that stops before deployment 2 starts sees only deployment 1.
    assert peak_traffic(t(2), t(2, 10), live) == (0.5, t(2))
    # From March on, the peak is April's.
    peak, at = peak_traffic(t(3), t(5), live)
    assert (round(peak, 9), at) == (0.7, t(4))


def test_intervals_that_touch_do_not_overlap() -> None:
    back_to_back = [deployment(1, t(1), t(2), 1.0), deployment(2, t(2), t(3), 1.0)]
    assert peak_traffic(t(1), None, back_to_back) == (1.0, t(1))
    assert peak_traffic(t(2), t(3), back_to_back) == (1.0, t(2))
    assert peak_traffic(t(3), None, back_to_back) == (0.0, t(3))
    assert peak_traffic(t(1), t(2), [deployment(2, t(2), t(3), 1.0)]) == (0.0, t(1))


def test_peak_traffic_agrees_with_a_brute_force_sweep() -> None:
    starts = [t(m, d) for m in (1, 2, 3) for d in (1, 10, 20)]
    intervals = [
        deployment(n, s, s + timedelta(days=length) if length else None, share)
        for n, (s, length, share) in enumerate(
            zip(
                starts,
                [15, 0, 30, 5, 40, 0, 12, 25, 9],
                [0.2, 0.1, 0.3, 0.25, 0.15, 0.05, 0.2, 0.1, 0.3],
                strict=True,
            )
        )
    ]
    for start, end in [(t(1), None), (t(1, 5), t(2, 5)), (t(2, 12), t(3, 15)), (t(3, 1), None)]:
        probes = [
            p
            for p in {start}
            | {d.started_at for d in intervals}
            | {d.ended_at for d in intervals if d.ended_at}
            if p >= start and (end is None or p < end)
        ]
        expected = max(sum(d.traffic_share for d in intervals if d.live_at(p)) for p in probes)
        peak, at = peak_traffic(start, end, intervals)
        assert round(peak, 9) == round(expected, 9), (start, end)
        assert round(sum(d.traffic_share for d in intervals if d.live_at(at)), 9) == round(expected, 9)


def test_live_at_and_overlaps_are_half_open() -> None:
    d = deployment(1, t(2), t(3), 1.0)
    assert (d.live_at(t(1, 28)), d.live_at(t(2)), d.live_at(t(2, 28)), d.live_at(t(3))) == (
        False,
        True,
        True,
        False,
    )
    assert d.overlaps(t(1), t(2, 2)) and d.overlaps(t(2, 27), None) and d.overlaps(t(1), None)
    assert not d.overlaps(t(1), t(2)) and not d.overlaps(t(3), t(4)) and not d.overlaps(t(3), None)
    open_ended = deployment(2, t(2), None, 1.0)
    assert open_ended.live_at(t(12)) and open_ended.overlaps(t(11), t(12))


# ---------------------------------------------------------------------------------------------------------
# As known at a time


def test_a_deployment_end_recorded_later_had_not_happened() -> None:
    ended = deployment(1, t(2), t(3), 1.0, recorded_at=t(2), end_recorded_at=t(5))
    assert ended.as_known(t(4)) == replace(ended, ended_at=None, end_reason=None, end_recorded_at=None)
    assert ended.as_known(t(4)).live_at(t(4))
    assert ended.as_known(t(5)) == ended  # recorded at exactly that time: known
    assert ended.as_known(t(6)) == ended
    still_open = deployment(2, t(2), None, 1.0, recorded_at=t(2))
    assert still_open.as_known(t(1)) == still_open


def run_of(completed_at: datetime | None) -> Run:
    return Run(
        id="run:r",
        key="r",
        kind=RunKind.TRAIN,
        experiment_id=None,
        status=RunStatus.FINISHED if completed_at else RunStatus.RUNNING,
        started_at=t(1),
        ended_at=t(1, 2) if completed_at else None,
        params={"lr": "0.1"},
        metrics={"loss": 0.3, "acc": 0.9} if completed_at else {},
        code=Code(),
        environment=Environment(),
        inputs=(),
        output_ids=(),
        recorded=Recorded(t(1), "pipeline"),
        completed_at=completed_at,
        completion_metrics=("acc", "loss") if completed_at else (),
    )


def test_a_run_completion_recorded_later_had_not_happened() -> None:
    finished = run_of(t(3))
    before = finished.as_known(t(2))
    assert (
        before.status,
        before.ended_at,
        before.metrics,
        before.completed_at,
        before.completion_metrics,
    ) == (
        RunStatus.RUNNING,
        None,
        {},
        None,
        (),
    )
    assert before.params == {"lr": "0.1"}
    assert finished.as_known(t(3)) == finished
    assert run_of(None).as_known(t(2)) == run_of(None)


def source_of(excluded_recorded: datetime | None) -> Source:
    return Source(
        id="source:s",
        name="s",
        kind="crawl",
        uri=None,
        owner=None,
        license=None,
        description=None,
        recorded=Recorded(t(1), "pipeline"),
        excluded_at=t(2) if excluded_recorded else None,
        exclusion_reason="withdrawn" if excluded_recorded else None,
        exclusion_recorded_at=excluded_recorded,
    )


def test_an_exclusion_recorded_later_had_not_happened() -> None:
    excluded = source_of(t(5))  # excluded as of Feb 2, learnt in May
    before = excluded.as_known(t(4))
    assert (before.excluded_at, before.exclusion_reason, before.exclusion_recorded_at) == (None, None, None)
    assert excluded.as_known(t(5)) == excluded
    assert source_of(None).as_known(t(1)) == source_of(None)


# ---------------------------------------------------------------------------------------------------------
# Ledger content


def test_a_backfilled_closed_deployment_records_its_end_with_its_start() -> None:
    closed = deployment(1, t(2), t(3), 0.5, recorded_at=t(6))  # the end recorded with the start
    content = f.deployment_started(closed).content
    assert (content["endedAt"], content["endReason"], content["startedAt"]) == (
        t(3).isoformat(),
        "done",
        t(2).isoformat(),
    )
    assert content["recordedAt"] == t(6).isoformat() and content["trafficShare"] == 0.5


def test_a_later_end_is_its_own_fact() -> None:
    ended = deployment(1, t(2), t(3), 0.5, recorded_at=t(2), end_recorded_at=t(4))
    # As it was recorded at its start: no end (the verifier compares the deployment as known then).
    assert f.deployment_started(ended.as_known(t(2))).content["endedAt"] is None
    assert f.deployment_ended(ended) == f.Fact(
        FactKind.DEPLOYMENT_ENDED,
        ended.id,
        {"id": ended.id, "endedAt": t(3).isoformat(), "endReason": "done", "recordedAt": t(4).isoformat()},
    )


def test_run_and_exclusion_facts() -> None:
    completed = f.run_completed(run_of(t(3)))
    assert completed.content == {
        "id": "run:r",
        "status": "FINISHED",
        "endedAt": t(1, 2).isoformat(),
        "metrics": {"acc": 0.9, "loss": 0.3},
        "recordedAt": t(3).isoformat(),
    }
    assert f.run_registered(run_of(t(3)).as_known(t(1))).content["status"] == "RUNNING"
    excluded = f.source_excluded(source_of(t(5)))
    assert excluded.content == {
        "id": "source:s",
        "excludedAt": t(2).isoformat(),
        "reason": "withdrawn",
        "recordedAt": t(5).isoformat(),
    }
    assert excluded.kind.scope is Scope.CATALOG


def test_dataset_version_content_does_not_depend_on_edge_order() -> None:
    base = DatasetVersion(
        id="datasetVersion:d:v2",
        dataset_id="dataset:d",
        version="v2",
        digest=None,
        uri=None,
        row_count=3,
        schema=None,
        created_at=t(1),
        source_ids=("source:b", "source:a"),
        derived_from=(Derivation("datasetVersion:d:v1", "dedup"), Derivation("datasetVersion:c:v1", None)),
        generated_by=None,
        recorded=RECORDED,
    )
    shuffled = replace(
        base, source_ids=tuple(reversed(base.source_ids)), derived_from=tuple(reversed(base.derived_from))
    )
    assert f.dataset_version_registered(base) == f.dataset_version_registered(shuffled)
    assert f.dataset_version_registered(base).content["sourceIds"] == ["source:a", "source:b"]
    dropped = replace(base, source_ids=("source:a",))
    assert f.dataset_version_registered(dropped) != f.dataset_version_registered(base)


def inference(n: int, version_id: str = "modelVersion:m:1") -> Inference:
    return Inference(
        id=f"inference:{n}",
        at=t(3, n),
        model_version_id=version_id,
        deployment_id=None,
        input_digest=None,
        output_digest=None,
        latency_ms=1.5,
        recorded=RECORDED,
    )


def test_an_inference_batch_digest_covers_every_inference_in_any_order() -> None:
    batch = [inference(n) for n in (1, 2, 3)]
    fact = f.inferences_logged("w1", batch)
    assert fact.kind is FactKind.INFERENCES_LOGGED and fact.subject_id == "w1"
    assert fact.content["count"] == 3
    assert f.inferences_logged("w1", reversed(batch)) == fact
    assert f.inferences_logged("w1", batch[:2]).content["digest"] != fact.content["digest"]
    moved = [batch[0], batch[1], inference(3, "modelVersion:m:2")]
    assert f.inferences_logged("w1", moved).content["digest"] != fact.content["digest"]
    assert f.inferences_logged("w1", [*batch, inference(4)]).content["digest"] != fact.content["digest"]


def test_every_fact_kind_belongs_to_a_ledger() -> None:
    assert {kind.scope for kind in FactKind} == set(Scope)
    assert FactKind.DEPLOYMENT_ENDED.scope is Scope.SERVING
    assert FactKind.RUN_COMPLETED.scope is Scope.RUNS
    assert FactKind.MODEL_VERSION_REGISTERED.scope is Scope.REGISTRY


def test_an_entry_hash_covers_every_part_of_the_entry() -> None:
    parts: dict[str, object] = {
        "scope": Scope.SERVING,
        "seq": 3,
        "kind": FactKind.DEPLOYMENT_STARTED,
        "subject_id": "deployment:ep:1",
        "content": {"a": 1, "b": [1, 2]},
        "actor": "pipeline",
        "recorded_at": t(3),
        "prev_hash": "0" * 64,
    }
    digest = entry_hash(**parts)  # type: ignore[arg-type]
    assert digest == entry_hash(**{**parts, "content": {"b": [1, 2], "a": 1}})  # type: ignore[arg-type]
    changes: dict[str, object] = {
        "scope": Scope.CATALOG,
        "seq": 4,
        "kind": FactKind.DEPLOYMENT_ENDED,
        "subject_id": "deployment:ep:2",
        "content": {"a": 2, "b": [1, 2]},
        "actor": "intruder",
        "recorded_at": t(3) + timedelta(microseconds=1),
        "prev_hash": None,
    }
    for name, value in changes.items():
        assert entry_hash(**{**parts, name: value}) != digest, name  # type: ignore[arg-type]


def test_an_event_hash_covers_its_content_its_predecessor_and_when_it_was_recorded() -> None:
    chain = Chain()
    event = replace(
        chain.stage(version(), Stage.STAGING, t(2), reason="ok"), prev_hash="a" * 64, recorded_at=t(6)
    )
    digest = event_hash(event)
    for changed in (
        replace(event, reason="not ok"),
        replace(event, at=t(2, 2)),
        replace(event, to_stage=Stage.ARCHIVED),
        replace(event, prev_hash="b" * 64),
        replace(event, recorded_at=t(6, 2)),
        replace(event, actor="intruder"),
        replace(event, seq=9),
    ):
        assert event_hash(changed) != digest
    # Version 1 events (recorded before recordedAt was covered) are verified as they were written.
    legacy = replace(event, hash_version=1)
    assert event_hash(replace(legacy, recorded_at=t(6, 2))) == event_hash(legacy)


def test_the_latest_entry_of_a_subject_supersedes_the_earlier_ones() -> None:
    def entry(seq: int, kind: FactKind, subject: str) -> LedgerEntry:
        return LedgerEntry(
            id=f"ledger:catalog:{seq}",
            scope=Scope.CATALOG,
            seq=seq,
            kind=kind,
            subject_id=subject,
            content={"seq": seq},
            actor="pipeline",
            recorded_at=t(1),
            recorded_in="w",
            prev_hash=None,
            hash="h",
            mac=None,
            key_id=None,
        )

    entries = [
        entry(1, FactKind.SOURCE_REGISTERED, "source:a"),
        entry(2, FactKind.SOURCE_EXCLUDED, "source:a"),
        entry(3, FactKind.SOURCE_REGISTERED, "source:b"),
        entry(4, FactKind.SOURCE_EXCLUDED, "source:a"),
    ]
    latest = f.latest_by_subject(entries, FactKind.SOURCE_EXCLUDED)
    assert {k: e.seq for k, e in latest.items()} == {"source:a": 4}
    assert {k: e.seq for k, e in f.latest_by_subject(entries, FactKind.SOURCE_REGISTERED).items()} == {
        "source:a": 1,
        "source:b": 3,
    }
