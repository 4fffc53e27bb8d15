"""Schema migrations: the store's version, the ordered data migrations that bring it to the code's, and
the lease that lets one process at a time apply them.

The version lives on the `(:ProvgraphSchema {id: 'provgraph'})` node; a store without one is at version 1
(constraints only, what the first release wrote). Each migration is applied once, in order, and recorded as
a `(:SchemaMigration {version, description, appliedAt, durationMs, appliedBy})` node, so an operator can see
when the store was upgraded and by whom (`provgraph schema status`). Stores upgraded before this history
existed show their version without records for the steps they had already taken.

Concurrent starts: replicas starting together all call `migrate`. The schema node is the lock: a process
claims it by writing a `migrating` owner and a `leaseUntil` in a write transaction (taking the node's write
lock before reading, as the cold tier's `ColdTier` node does in store/compaction.py), renews the lease while
it works, and removes it when done. The others wait — polling, bounded by `WAIT` seconds, then UNAVAILABLE —
and re-read the version once they hold the lease themselves, so a step is never applied twice. A process
that dies holding the lease leaves it to expire; the next claimant takes over. Every statement is still
idempotent, because a process can die between a migration's statements and its record: the next one runs
that migration again.

A store whose version is newer than the code's is refused (SCHEMA_TOO_NEW) before anything is written:
an older binary must not run its constraints and queries against data it does not understand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, LiteralString

from provgraph.domain.errors import ProvgraphError, Unavailable
from provgraph.store import rollups
from provgraph.store.graph import Graph
from provgraph.store.values import as_datetime, opt_datetime

log = logging.getLogger("provgraph.store")

BASELINE_VERSION = 1  # a store with no version: constraints and indexes only, what the first release wrote
LEASE = 30.0  # seconds a claim lasts unless renewed; a dead process's claim frees itself after this
WAIT = 120.0  # seconds a process waits for another's migration before it gives up with UNAVAILABLE
_POLL_FIRST, _POLL_MAX = 0.1, 1.0  # seconds between looks at a held lease


@dataclass(frozen=True)
class Migration:
    """One step: the version it brings the store to, what it does (shown in the history), and its
    statements, each idempotent and run in an auto-commit transaction of its own (so a large one may
    commit in batches with CALL … IN TRANSACTIONS)."""

    version: int
    description: str
    statements: tuple[LiteralString, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        2,
        "provenance edges carry recordedAt, the transaction time knownAt queries filter on",
        (
            "MATCH ()-[r]->() WHERE r.validFrom IS NOT NULL AND r.recordedAt IS NULL "
            "CALL (r) { SET r.recordedAt = startNode(r).recordedAt } IN TRANSACTIONS OF 10000 ROWS",
        ),
    ),
    Migration(
        3,
        "inference counts come from hourly rollups, built here for the inferences already stored",
        (rollups.REBUILD,),
    ),
)


def validate(migrations: Sequence[Migration]) -> None:
    """Raise ValueError unless the migrations start right after the baseline, go up one version at a
    time, and each says what it does and has something to run. A gap or a repeat would let two releases
    disagree about what a version number means."""
    expected = BASELINE_VERSION + 1
    for migration in migrations:
        if migration.version != expected:
            raise ValueError(
                f"migration {migration.version} ({migration.description!r}) is out of order: "
                f"expected version {expected}"
            )
        if not migration.description.strip():
            raise ValueError(f"migration {migration.version} has no description")
        if not migration.statements:
            raise ValueError(f"migration {migration.version} has no statements")
        expected += 1


def code_version(migrations: Sequence[Migration] | None = None) -> int:
    """The schema version this code writes: its last migration's."""
    migrations = MIGRATIONS if migrations is None else migrations
    return migrations[-1].version if migrations else BASELINE_VERSION


validate(MIGRATIONS)
SCHEMA_VERSION = code_version(MIGRATIONS)


class SchemaTooNew(ProvgraphError):
    """The database was migrated by a newer provgraph than this one."""

    code: ClassVar[str] = "SCHEMA_TOO_NEW"

    def __init__(self, database_version: int, code_version: int) -> None:
        super().__init__(
            f"SCHEMA_TOO_NEW: the database's schema is version {database_version}, newer than this "
            f"provgraph's ({code_version}); run a provgraph release that knows version {database_version} "
            "(downgrading a store is not supported)"
        )
        self.database_version = database_version
        self.code_version = code_version


# The constraint the lock itself relies on: without it two first starts could MERGE two schema nodes.
LOCK_CONSTRAINT = (
    "CREATE CONSTRAINT provgraph_schema_id IF NOT EXISTS FOR (n:ProvgraphSchema) REQUIRE n.id IS UNIQUE"
)

READ_SCHEMA = """
OPTIONAL MATCH (s:ProvgraphSchema {id: 'provgraph'})
RETURN s.version AS version, s.migrating AS migrating, s.leaseUntil AS leaseUntil
"""

# Claim the lease unless another process holds a live one. The node's write lock is taken before its
# properties are read (the SET … REMOVE), so two claimants serialise and the second sees the first's claim.
CLAIM = """
MERGE (s:ProvgraphSchema {id: 'provgraph'})
SET s._lock = true REMOVE s._lock
WITH s, s.migrating AS holder,
     s.migrating IS NULL OR s.migrating = $owner OR coalesce(s.leaseUntil < datetime(), true) AS free
SET s.migrating = CASE WHEN free THEN $owner ELSE holder END,
    s.leaseUntil = CASE WHEN free THEN datetime() + duration({milliseconds: $leaseMs}) ELSE s.leaseUntil END,
    s.migratingSince = CASE WHEN free AND coalesce(holder, '') <> $owner THEN datetime() ELSE s.migratingSince END
RETURN free, s.version AS version, s.migrating AS migrating, s.leaseUntil AS leaseUntil
"""

RENEW = """
MATCH (s:ProvgraphSchema {id: 'provgraph'}) WHERE s.migrating = $owner
SET s.leaseUntil = datetime() + duration({milliseconds: $leaseMs})
RETURN count(s) AS held
"""

RELEASE = """
MATCH (s:ProvgraphSchema {id: 'provgraph'}) WHERE s.migrating = $owner
REMOVE s.migrating, s.leaseUntil, s.migratingSince
"""

# A migration's statements have run: record it and move the version, only while the lease is still ours.
RECORD = """
MATCH (s:ProvgraphSchema {id: 'provgraph'}) WHERE s.migrating = $owner
SET s.version = CASE WHEN coalesce(s.version, 1) < $version THEN $version ELSE s.version END,
    s.migratedAt = datetime()
MERGE (m:SchemaMigration {version: $version})
ON CREATE SET m.description = $description, m.appliedAt = datetime(), m.durationMs = $durationMs,
              m.appliedBy = $owner
RETURN s.version AS version
"""

HISTORY = """
MATCH (m:SchemaMigration)
RETURN m.version AS version, m.description AS description, m.appliedAt AS appliedAt,
       m.durationMs AS durationMs, m.appliedBy AS appliedBy
ORDER BY m.version
"""


@dataclass(frozen=True)
class AppliedMigration:
    """A migration as the database recorded it."""

    version: int
    description: str
    applied_at: datetime
    duration_ms: int
    applied_by: str


@dataclass(frozen=True)
class SchemaStatus:
    """Where the database's schema stands against the code's (`provgraph schema status`)."""

    database_version: int | None  # None: no schema node yet (an empty database, or one never started on)
    code_version: int
    applied: tuple[AppliedMigration, ...]
    pending: tuple[Migration, ...]
    migrating: str | None  # the process holding the lease, if one does
    lease_until: datetime | None

    @property
    def too_new(self) -> bool:
        return (self.database_version or BASELINE_VERSION) > self.code_version


async def status(graph: Graph) -> SchemaStatus:
    """Read the database's version, the recorded migrations and any lease; changes nothing."""
    migrations = MIGRATIONS
    record = await graph.read_one(READ_SCHEMA)
    version = None if record is None or record["version"] is None else int(record["version"])
    history = await graph.read(HISTORY)
    applied = tuple(
        AppliedMigration(
            version=int(r["version"]),
            description=str(r["description"]),
            applied_at=as_datetime(r["appliedAt"]),
            duration_ms=int(r["durationMs"]),
            applied_by=str(r["appliedBy"]),
        )
        for r in history
    )
    at = version or BASELINE_VERSION
    return SchemaStatus(
        database_version=version,
        code_version=code_version(migrations),
        applied=applied,
        pending=tuple(m for m in migrations if m.version > at),
        migrating=None if record is None or record["migrating"] is None else str(record["migrating"]),
        lease_until=None if record is None else opt_datetime(record["leaseUntil"]),
    )


async def migrate(
    graph: Graph,
    prepare: Callable[[], Awaitable[None]],
    *,
    lease: float | None = None,
    wait: float | None = None,
) -> int:
    """Bring the database to the code's schema version and return it.

    Under the lease: `prepare` (the constraints and indexes, idempotent) runs, then every migration newer
    than the database's version, in order, each recorded as it completes. Raises SchemaTooNew for a
    database newer than the code (before writing anything), Unavailable when another process holds the
    lease for longer than `wait` seconds."""
    migrations = MIGRATIONS  # read at call time: tests add a step by replacing the tuple
    validate(migrations)
    target = code_version(migrations)
    lease = LEASE if lease is None else lease
    wait = WAIT if wait is None else wait

    record = await graph.read_one(READ_SCHEMA)
    if record is not None and record["version"] is not None and int(record["version"]) > target:
        raise SchemaTooNew(int(record["version"]), target)
    await graph.write_statement(LOCK_CONSTRAINT)

    async with _leased(graph, lease, wait, target) as (owner, current):
        await prepare()
        for migration in migrations:
            if migration.version <= current:
                continue
            started = time.monotonic()
            log.info("schema: migrating to version %d: %s", migration.version, migration.description)
            for statement in migration.statements:
                await graph.run_autocommit(statement)
            duration_ms = round((time.monotonic() - started) * 1000)
            recorded = await graph.write_statement(
                RECORD,
                {
                    "owner": owner,
                    "version": migration.version,
                    "description": migration.description,
                    "durationMs": duration_ms,
                },
            )
            if not recorded:
                raise Unavailable(
                    f"lost the schema migration lease while applying version {migration.version}; "
                    "another process took it over and will finish the migration"
                )
            current = migration.version
        return current


@asynccontextmanager
async def _leased(graph: Graph, lease: float, wait: float, target: int) -> AsyncIterator[tuple[str, int]]:
    """Hold the schema lease (renewed in the background) for the block; yields the owner id and the
    version the database is at once the lease is ours."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    lease_ms = round(lease * 1000)
    deadline = time.monotonic() + wait
    delay = _POLL_FIRST
    while True:
        claim = (await graph.write_statement(CLAIM, {"owner": owner, "leaseMs": lease_ms}))[0]
        if claim["free"]:
            break
        if time.monotonic() >= deadline:
            raise Unavailable(
                f"another provgraph process ({claim['migrating']}) is migrating the database's schema "
                f"(its lease runs until {_iso(claim['leaseUntil'])}); waited {wait:.0f} s, "
                "try again once it has finished"
            )
        await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
        delay = min(delay * 2, _POLL_MAX)

    renewing = asyncio.create_task(_renew(graph, owner, lease_ms, lease / 3))
    try:
        current = BASELINE_VERSION if claim["version"] is None else int(claim["version"])
        if current > target:  # a newer release migrated while this process waited
            raise SchemaTooNew(current, target)
        yield owner, current
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        try:
            await graph.write_statement(RELEASE, {"owner": owner})
        except ProvgraphError as exc:  # the lease expires by itself; the next claimant takes over
            log.warning(
                "schema: could not release the migration lease (%s); it expires in %.0f s", exc, lease
            )


def _iso(value: object) -> str:
    moment = opt_datetime(value)
    return "an unknown time" if moment is None else moment.isoformat(timespec="seconds")


async def _renew(graph: Graph, owner: str, lease_ms: int, every: float) -> None:
    """Keep the lease alive while a long migration runs."""
    while True:
        await asyncio.sleep(every)
        try:
            held = (await graph.write_statement(RENEW, {"owner": owner, "leaseMs": lease_ms}))[0]["held"]
        except ProvgraphError as exc:  # the database is away; the migration's own statements will say so
            log.warning("schema: could not renew the migration lease: %s", exc)
            continue
        if not held:
            log.warning("schema: the migration lease was taken over by another process")
            return
