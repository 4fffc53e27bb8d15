"""The process-wide handle on Neo4j: one async driver, the database name, timeouts and error mapping."""

from __future__ import annotations

import asyncio
import logging
import random
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from types import CodeType
from typing import Any, LiteralString, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncTransaction
from neo4j.exceptions import (
    AuthError,
    ClientError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from provgraph.domain.errors import ProvgraphError, Unavailable

T = TypeVar("T")
log = logging.getLogger("provgraph.store")

Params = dict[str, Any]
# The transaction a store's unit of work runs in (an explicit transaction; see Graph's retry policy).
Tx = AsyncTransaction

# One quick second attempt when a connection fails (a stale pooled connection, a routing change), then
# UNAVAILABLE: a caller learns of an outage in well under a second.
CONNECTION_RETRIES = 1
CONNECTION_RETRY_DELAY = 0.05
TRANSIENT_FIRST_DELAY = 0.02
TRANSIENT_MAX_DELAY = 0.5
PROBE_TIMEOUT = 1.0


# Told the name of each unit of work (a read statement, or a write transaction) and kept open around it:
# the API's metrics time it and its tracing opens a span. It never sees a statement's parameters.
StatementObserver = Callable[[str], AbstractContextManager[object]]
_names: dict[CodeType, str] = {}


def statement_name() -> str:
    """The name of the unit of work being run: the store (or service) function that called Graph, e.g.
    `store.serving.ServingStore.log_inferences`. Names come from the code, so they are few, stable, and
    say where to look; a statement's text would be long and its parameters must never be exported."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    code = frame.f_code
    name = _names.get(code)
    if name is None:
        module = str(frame.f_globals.get("__name__", "?")).removeprefix("provgraph.")
        qualname = code.co_qualname.replace(".<locals>", "").replace(".<lambda>", "")
        name = _names.setdefault(code, f"{module}.{qualname}")
    return name


class DeadlineExceeded(ProvgraphError):
    """The database did not answer within the configured time."""

    code = "DEADLINE_EXCEEDED"


class Graph:
    """Runs statements against Neo4j.

    Parameters:
        driver: the one async driver of this process.
        database: the database to use (always named, which saves a home-database round trip).
        timeout: seconds allowed for one unit of work, retries included; past it the caller gets
            UNAVAILABLE or DEADLINE_EXCEEDED instead of waiting on a dead server.

    Retries are this class's, not the driver's: the driver's managed transactions retry a refused
    connection for their whole retry budget (measured: ~7 s before a request answered 503 while Neo4j was
    down), which let a caller hang long enough to lose its buffered work. Here an unreachable server is
    reported after one quick second attempt (a stale pooled connection after a restart, a routing change),
    while transient database errors (deadlocks between concurrent writers) are retried with backoff until
    `timeout`.

    Every session shares one bookmark manager, so a read follows every write this process committed
    before it: on a cluster, where reads are routed to other members than writes, an answer still
    includes the fact whose write just returned (read your writes). On one server it costs nothing.
    """

    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        timeout: float,
        observe: StatementObserver | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.timeout = timeout
        self.bookmarks = AsyncGraphDatabase.bookmark_manager()
        self.observe = observe

    def _observed(self) -> AbstractContextManager[object]:
        return self.observe(statement_name()) if self.observe is not None else nullcontext()

    async def read(self, query: LiteralString, params: Params | None = None) -> list[neo4j.Record]:
        """One read statement (auto-commit, read routing); returns all records."""

        async def attempt() -> list[neo4j.Record]:
            async with self.driver.session(
                database=self.database, default_access_mode=neo4j.READ_ACCESS, bookmark_manager=self.bookmarks
            ) as session:
                result = await session.run(neo4j.Query(query, timeout=self.timeout), params or {})
                return [record async for record in result]

        with self._observed():
            return await self._retrying(attempt)

    async def nodes_by_id(
        self, query: LiteralString, ids: Sequence[str], convert: Callable[[Mapping[str, Any]], T]
    ) -> dict[str, T]:
        """A batch read whose records carry one projected `node` each, keyed by the node's id (the
        DataLoaders' batch functions)."""
        records = await self.read(query, {"ids": list(ids)})
        return {record["node"]["id"]: convert(record["node"]) for record in records}

    async def merged(
        self, query: LiteralString, params: Params, convert: Callable[[Mapping[str, Any]], T]
    ) -> tuple[T, bool]:
        """Run a registration statement that returns `node` and `created` (see fragments.merge_by_id)."""
        record = (await self.write_statement(query, params))[0]
        return convert(record["node"]), bool(record["created"])

    async def read_one(self, query: LiteralString, params: Params | None = None) -> neo4j.Record | None:
        records = await self.read(query, params)
        return records[0] if records else None

    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one write transaction, retried on transient errors (so it must be idempotent).
        Raising inside `work` rolls everything back."""

        async def attempt() -> T:
            async with self.driver.session(
                database=self.database, bookmark_manager=self.bookmarks
            ) as session:
                tx = await session.begin_transaction(timeout=self.timeout)
                try:
                    result = await work(tx)
                    await tx.commit()
                    return result
                finally:
                    if not tx.closed():
                        await tx.close()  # rolls back

        with self._observed():
            return await self._retrying(attempt)

    async def write_statement(self, query: LiteralString, params: Params | None = None) -> list[neo4j.Record]:
        """One write statement in its own transaction."""

        async def work(tx: Tx) -> list[neo4j.Record]:
            result = await tx.run(query, params or {})
            return [record async for record in result]

        return await self.write(work)

    async def run_autocommit(self, query: LiteralString, params: Params | None = None) -> None:
        """One statement in an auto-commit transaction of its own (needed by CALL … IN TRANSACTIONS,
        which batches a large migration into many commits). Not retried: callers make it idempotent."""
        async with (
            self._guard(bounded=False),
            self.driver.session(database=self.database, bookmark_manager=self.bookmarks) as session,
        ):
            result = await session.run(neo4j.Query(query, timeout=None), params or {})
            await result.consume()

    async def ping(self) -> None:
        """Raise Unavailable unless the database answers a trivial query. No retries: readiness should
        report the current state, with the real reason (refused, bad credentials), not wait it out."""
        async with self._guard(), self.driver.session(database=self.database) as session:
            result = await session.run("RETURN 1 AS ok")
            await result.consume()

    async def close(self) -> None:
        await self.driver.close()

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        async with self._guard():
            lost = 0
            delay = TRANSIENT_FIRST_DELAY
            while True:
                try:
                    return await attempt()
                except (ServiceUnavailable, SessionExpired):
                    lost += 1
                    if lost > CONNECTION_RETRIES:
                        raise
                    await asyncio.sleep(CONNECTION_RETRY_DELAY * lost)
                except Neo4jError as exc:
                    if not exc.is_retryable() or _database_down(exc):
                        raise
                    # A deadlock or another transient failure: the work is idempotent, try again.
                    await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter
                    delay = min(delay * 2, TRANSIENT_MAX_DELAY)

    @asynccontextmanager
    async def _guard(self, bounded: bool = True) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.timeout if bounded else None):
                yield
        except TimeoutError:
            # Out of time: either the server is slow, or it is gone. A quick probe tells which, so the
            # caller gets the real reason.
            raise await self._diagnose_timeout() from None
        except AuthError as exc:
            raise Unavailable(f"Neo4j rejected the credentials: {_one_line(exc.message)}") from exc
        except (ServiceUnavailable, SessionExpired) as exc:
            raise Unavailable(f"Neo4j is unavailable: {_one_line(str(exc))}") from exc
        except ClientError as exc:
            if exc.code and "TransactionTimedOut" in exc.code:
                raise DeadlineExceeded("the query exceeded the server's transaction timeout") from exc
            raise
        except Neo4jError as exc:
            # Database-side failures that are not the client's fault (transient, out of memory).
            raise Unavailable(f"Neo4j could not complete the request ({exc.code})") from exc
        except (DriverError, OSError) as exc:
            raise Unavailable(f"Neo4j is unavailable: {_one_line(str(exc))}") from exc

    async def _diagnose_timeout(self) -> ProvgraphError:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await self.driver.verify_connectivity()
        except (DriverError, Neo4jError, OSError, TimeoutError) as exc:
            return Unavailable(f"Neo4j is unavailable: {_one_line(str(exc)) or 'no answer'}")
        return DeadlineExceeded(f"the database did not answer within {self.timeout:g}s")


def _database_down(exc: Neo4jError) -> bool:
    """A database that is starting, stopping or unavailable is an outage to report at once, not a
    transient conflict to wait out."""
    return bool(exc.code) and "DatabaseUnavailable" in str(exc.code)


def _one_line(text: str) -> str:
    """Driver messages span lines; log lines and error messages should not."""
    return " ".join(text.split())


def open_driver(uri: str, user: str, password: str | None, *, connect_timeout: float) -> AsyncDriver:
    """Create the process's driver. It connects lazily; call `Graph.ping` to check the server.

    `connect_timeout` bounds opening one connection (TCP and the Bolt handshake): it is how long a request
    can wait on a host that does not answer at all before it is told UNAVAILABLE."""
    auth = (user, password) if password is not None else None
    return AsyncGraphDatabase.driver(
        uri,
        auth=auth,
        connection_timeout=connect_timeout,
        connection_acquisition_timeout=max(connect_timeout * 2, 5.0),
        user_agent="provgraph",
        notifications_min_severity="OFF",
    )
