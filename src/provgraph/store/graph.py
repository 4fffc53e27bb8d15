"""The process-wide handle on Neo4j: one async driver, the database name, timeouts and error mapping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, LiteralString, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, RoutingControl
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
    """

    def __init__(self, driver: AsyncDriver, database: str, timeout: float) -> None:
        self.driver = driver
        self.database = database
        self.timeout = timeout

    async def read(self, query: LiteralString, params: Params | None = None) -> list[neo4j.Record]:
        """One read statement through read routing; returns all records."""
        async with self._guard():
            records, _, _ = await self.driver.execute_query(
                neo4j.Query(query, timeout=self.timeout),
                params or {},
                routing_=RoutingControl.READ,
                database_=self.database,
            )
            return list(records)

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

    async def write(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        """Run `work` in one managed write transaction (retried on transient errors, so it must be
        idempotent). Raising inside `work` rolls everything back."""
        unit = neo4j.unit_of_work(timeout=self.timeout)(work)
        async with self._guard(), self.driver.session(database=self.database) as session:
            return await session.execute_write(unit)

    async def write_statement(self, query: LiteralString, params: Params | None = None) -> list[neo4j.Record]:
        """One write statement in its own transaction."""

        async def work(tx: AsyncManagedTransaction) -> list[neo4j.Record]:
            result = await tx.run(query, params or {})
            return [record async for record in result]

        return await self.write(work)

    async def ping(self) -> None:
        """Raise Unavailable unless the database answers a trivial query. No retries: readiness should
        report the current state, with the real reason (refused, bad credentials), not wait it out."""
        async with self._guard(), self.driver.session(database=self.database) as session:
            result = await session.run("RETURN 1 AS ok")
            await result.consume()

    async def close(self) -> None:
        await self.driver.close()

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.timeout):
                yield
        except TimeoutError:
            # Out of time: either the server is slow, or it is gone and the driver kept retrying.
            # A quick probe tells which, so the caller gets the real reason.
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
            await self.driver.verify_connectivity()
        except (DriverError, Neo4jError, OSError) as exc:
            return Unavailable(f"Neo4j is unavailable: {_one_line(str(exc))}")
        return DeadlineExceeded(f"the database did not answer within {self.timeout:g}s")


def _one_line(text: str) -> str:
    """Driver messages span lines; log lines and error messages should not."""
    return " ".join(text.split())


def open_driver(
    uri: str, user: str, password: str | None, *, connect_timeout: float, retry_time: float = 5.0
) -> AsyncDriver:
    """Create the process's driver. It connects lazily; call `Graph.ping` to check the server.

    `retry_time` bounds the driver's retries of transient errors; keep it below the Graph's timeout so
    that an outage surfaces as the driver's own error (with its reason) rather than as a timeout."""
    auth = (user, password) if password is not None else None
    return AsyncGraphDatabase.driver(
        uri,
        auth=auth,
        connection_timeout=connect_timeout,
        connection_acquisition_timeout=connect_timeout * 2,
        max_transaction_retry_time=retry_time,
        user_agent="provgraph",
        notifications_min_severity="OFF",
    )
