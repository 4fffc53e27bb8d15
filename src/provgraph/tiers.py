"""`provgraph compact` and `provgraph retention`: compaction and the retention report, run against the
database directly (an operator's commands, like `demo load`)."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from provgraph.admin import services_for
from provgraph.config import Settings
from provgraph.domain.retention import RetentionReport
from provgraph.service.compaction import CompactionOutcome, CompactionService

T = TypeVar("T")


async def _with_compaction(settings: Settings, work: Callable[[CompactionService], Awaitable[T]]) -> T:
    async with services_for(settings) as services:
        service = services.compaction
        crash_at = os.environ.get("PROVGRAPH_COMPACTION_CRASH_AT")
        if crash_at:  # the crash tests: die at a named step, as a kill -9 would
            service = CompactionService(
                service.store, service.policy, service.batch, crash_at=lambda step: _die_at(step, crash_at)
            )
        lease = os.environ.get("PROVGRAPH_COMPACTION_LEASE")
        if lease:  # seconds another process waits before finishing a compaction this one left unfinished
            service.lease = timedelta(seconds=float(lease))
        return await work(service)


def _die_at(step: str, wanted: str) -> None:
    if step == wanted:
        os._exit(137)


async def compact(
    settings: Settings, progress: Callable[[str], None], batch: int | None
) -> CompactionOutcome:
    async def work(service: CompactionService) -> CompactionOutcome:
        if batch is not None:
            service.batch = batch
        return await service.compact(progress=progress)

    return await _with_compaction(settings, work)


async def retention(settings: Settings) -> RetentionReport:
    return await _with_compaction(settings, lambda service: service.retention())


def describe(report: RetentionReport) -> str:
    policy = report.policy
    kept = "forever" if policy.cold_days is None else f"{policy.cold_days} days"
    lines = [
        f"policy: hot {policy.hot_days} days in the graph, cold kept {kept} (never less than {policy.min_cold_days})",
        f"hot:  {report.hot.inferences:,} inferences, oldest {_t(report.hot.oldest)}",
        f"cold: {report.cold.inferences:,} inferences, {_t(report.cold.oldest)} … {_t(report.cold.newest)}, "
        f"{report.cold.bytes or 0:,} bytes in {report.cold_location}",
        f"compacted before {_t(report.compacted_before)}; deleted before {_t(report.deleted_before)}",
    ]
    return "\n".join(lines)


def as_json(report: RetentionReport) -> str:
    return json.dumps(
        {
            "hotDays": report.policy.hot_days,
            "coldDays": report.policy.cold_days,
            "minColdDays": report.policy.min_cold_days,
            "hot": {"inferences": report.hot.inferences, "oldest": _t(report.hot.oldest)},
            "cold": {
                "inferences": report.cold.inferences,
                "oldest": _t(report.cold.oldest),
                "newest": _t(report.cold.newest),
                "bytes": report.cold.bytes,
            },
            "compactedBefore": _t(report.compacted_before),
            "deletedBefore": _t(report.deleted_before),
            "coldLocation": report.cold_location,
            "coldSnapshot": report.cold_snapshot,
        },
        indent=2,
    )


def _t(value: object) -> str | None:
    return None if value is None else value.isoformat()  # type: ignore[attr-defined]
