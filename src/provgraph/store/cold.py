"""The cold tier: inferences older than the hot window, as an Apache Iceberg table of Parquet files.

Iceberg (through pyiceberg) rather than bare Parquet because other engines — Spark, Trino, DuckDB, Athena —
read an Iceberg table directly, every change is an atomic snapshot (which the compaction's crash safety is
built on), and a snapshot's summary can carry the compaction that made it. The catalog is SQL (SQLite in a
file by default, any SQLAlchemy URL for a shared one); the warehouse is a local directory or an object store
(`s3://…` through pyarrow's S3 file system, any S3-compatible service).

Layout: partitioned by `bucket(id, 64)`, each file sorted by id with small row groups, so a lookup by id
touches one partition and, per file, the one row group whose id range holds it. Reads are pinned to a
snapshot the graph names (see store/compaction.py): a snapshot whose compaction has not finished is never
read, so an inference is never answered from both tiers.

Reads use a pyarrow dataset of the snapshot's files (the same code path for a local directory and an
object store): lookups by id filter it with pyarrow itself, so row groups are pruned by their id range;
counts, dedup joins and audits run DuckDB over it. Each compaction or seal adds a file per bucket, so
`rewrite` folds a crowded bucket back into one sorted file (service/compaction.py `optimize`).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import LessThan, Reference
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import Table
from pyiceberg.transforms import BucketTransform
from pyiceberg.types import DoubleType, NestedField, StringType, TimestamptzType

from provgraph.domain.retention import ColdLocation

NAMESPACE = "provgraph"
BUCKETS = 64
ROW_GROUP_ROWS = 8192
COMPACTION_PROPERTY = "provgraph.compaction"

SCHEMA = Schema(
    NestedField(1, "id", StringType(), required=True),
    NestedField(2, "at", TimestamptzType(), required=True),
    NestedField(3, "model_version_id", StringType(), required=True),
    NestedField(4, "deployment_id", StringType(), required=False),
    NestedField(5, "input_digest", StringType(), required=False),
    NestedField(6, "output_digest", StringType(), required=False),
    NestedField(7, "latency_ms", DoubleType(), required=False),
    NestedField(8, "recorded_at", TimestamptzType(), required=True),
    NestedField(9, "recorded_by", StringType(), required=True),
    NestedField(10, "recorded_in", StringType(), required=False),
)
SPEC = PartitionSpec(
    PartitionField(source_id=1, field_id=1000, transform=BucketTransform(BUCKETS), name="id_bucket")
)
COLUMNS = [f.name for f in SCHEMA.fields]
# `at` is a keyword in DuckDB, hence the quotes.
_ROWS = (
    'SELECT id, "at", model_version_id, deployment_id, input_digest, output_digest, latency_ms, recorded_at, '
    "recorded_by, recorded_in FROM cold"
)
_ROWS_IN_PERIOD = _ROWS + ' WHERE "at" >= ? AND "at" <= ? AND id IN (SELECT id FROM wanted)'  # noqa: S608 — constant text; values are bound


@dataclass(frozen=True)
class ColdFile:
    path: str
    bucket: int
    rows: int
    bytes: int
    first_at: datetime | None = None  # the file's bounds on `at`, from the table's metadata
    last_at: datetime | None = None


@dataclass(frozen=True)
class ColdStats:
    snapshot_id: int | None
    rows: int
    bytes: int
    files: int
    oldest: datetime | None
    newest: datetime | None


class ColdTier:
    """The Iceberg table and its readers. Thread-safe: the async store calls it from worker threads."""

    def __init__(self, location: ColdLocation) -> None:
        self.location = location
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._tables: dict[str, Table] = {}
        self._files: dict[int, list[ColdFile]] = {}
        self._duck = duckdb.connect()
        self._duck.execute("SET parquet_metadata_cache = true")
        self._bucket = BucketTransform(BUCKETS).transform(StringType())

    # -- the table ---------------------------------------------------------------------------------------

    def table(self, name: str, *, refresh: bool = False) -> Table:
        """The table `name` (each graph names its own: a cleared or replaced graph never reads another
        graph's rows), created on first use."""
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = self._open(f"{NAMESPACE}.{name}")
            elif refresh:
                table = table.refresh()
            self._tables[name] = table
            return table

    def _open(self, identifier: str) -> Table:
        if self.location.catalog_uri.startswith("sqlite:///"):
            from pathlib import Path

            Path(self.location.catalog_uri.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        if self.location.warehouse.startswith("file://"):
            from pathlib import Path

            Path(urlparse(self.location.warehouse).path).mkdir(parents=True, exist_ok=True)
        catalog = self._catalog or SqlCatalog(
            "provgraph",
            uri=self.location.catalog_uri,
            warehouse=self.location.warehouse,
            **self.location.properties,
        )
        self._catalog = catalog
        catalog.create_namespace_if_not_exists(NAMESPACE)
        try:
            return catalog.load_table(identifier)
        except NoSuchTableError:
            properties = {
                "write.parquet.compression-codec": "zstd",
                "write.parquet.row-group-limit": str(ROW_GROUP_ROWS),
                "provgraph.layout": f"bucket(id, {BUCKETS}), files sorted by id",
            }
            # Two processes creating the table at once: the loser loads the winner's.
            try:
                return catalog.create_table(
                    identifier, schema=SCHEMA, partition_spec=SPEC, properties=properties
                )
            except Exception:
                return catalog.load_table(identifier)

    # -- writes ------------------------------------------------------------------------------------------

    def append(self, name: str, rows: pa.Table, compaction_id: str) -> int:
        """Commit `rows` as one snapshot tagged with the compaction; returns the snapshot id. Atomic: the
        snapshot is there with all its rows, or not at all."""
        table = self.table(name, refresh=True)
        data = rows.select(COLUMNS).cast(table.schema().as_arrow()).sort_by("id")
        table.append(data, snapshot_properties={COMPACTION_PROPERTY: compaction_id})
        snapshot = table.current_snapshot()
        assert snapshot is not None
        return snapshot.snapshot_id

    def expire_before(self, name: str, boundary: datetime, operation_id: str) -> int | None:
        """Delete every row whose time is before `boundary` in one snapshot; None when nothing was."""
        table = self.table(name, refresh=True)
        before = table.current_snapshot()
        with warnings.catch_warnings():  # "did not match any records" is an answer here, not a problem
            warnings.simplefilter("ignore", UserWarning)
            self._delete(table, boundary, operation_id)
        after = table.current_snapshot()
        if after is None or (before is not None and after.snapshot_id == before.snapshot_id):
            return None
        return after.snapshot_id

    @staticmethod
    def _delete(table: Table, boundary: datetime, operation_id: str) -> None:
        table.delete(
            delete_filter=LessThan(Reference("at"), boundary.astimezone(UTC).isoformat()),  # type: ignore[call-arg, arg-type]
            snapshot_properties={COMPACTION_PROPERTY: operation_id},
        )

    def rewrite(self, name: str, snapshot_id: int, buckets: Sequence[int], operation_id: str) -> int:
        """Rewrite each of these buckets' files as one file sorted by id, as one snapshot with the same rows
        (tagged with the operation). A lookup opens every file of its bucket, so this is what keeps lookups
        fast however many compactions and seals have appended. `snapshot_id` must be the table's current
        snapshot (the caller holds the tier's lock): a rewrite never drops rows appended after it read."""
        table = self.table(name, refresh=True)
        current = table.current_snapshot()
        if current is None or current.snapshot_id != snapshot_id:
            raise RuntimeError(
                f"{name} has moved on from snapshot {snapshot_id}; rewrite from the current one"
            )
        wanted = set(buckets)
        files = [f for f in self.files(name, snapshot_id) if f.bucket in wanted]
        if not files:
            return snapshot_id
        cursor = self._duck.cursor()
        try:
            cursor.register("cold", self._dataset(name, files))
            rows = cursor.sql(_ROWS + " ORDER BY id").to_arrow_table()
        finally:
            cursor.close()
        replaced = [
            task.file
            for task in table.scan(snapshot_id=snapshot_id).plan_files()
            if int(task.file.partition[0]) in wanted
        ]
        # pyiceberg's public overwrites either filter rows by value or replace identity partitions only; a
        # bucket partition's files are swapped with the snapshot producer its own writes use.
        with table.transaction() as tx:
            properties = {COMPACTION_PROPERTY: operation_id}
            with tx.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
                for data_file in replaced:
                    overwrite.delete_data_file(data_file)
                for data_file in _dataframe_to_data_files(
                    table_metadata=tx.table_metadata,
                    df=rows.cast(table.schema().as_arrow()),
                    io=table.io,
                    write_uuid=overwrite.commit_uuid,
                ):
                    overwrite.append_data_file(data_file)
        table = self.table(name, refresh=True)
        snapshot = table.current_snapshot()
        assert snapshot is not None
        return snapshot.snapshot_id

    def files_per_bucket(self, name: str, snapshot_id: int | None) -> dict[int, int]:
        if snapshot_id is None:
            return {}
        counts: dict[int, int] = {}
        for f in self.files(name, snapshot_id):
            counts[f.bucket] = counts.get(f.bucket, 0) + 1
        return counts

    def snapshot_of(self, name: str, operation_id: str) -> int | None:
        """The snapshot a compaction (or expiry) committed, if it got that far."""
        table = self.table(name, refresh=True)
        for snapshot in reversed(table.snapshots()):
            summary = snapshot.summary
            if summary is not None and summary.additional_properties.get(COMPACTION_PROPERTY) == operation_id:
                return snapshot.snapshot_id
        return None

    # -- reads -------------------------------------------------------------------------------------------

    def files(self, name: str, snapshot_id: int) -> list[ColdFile]:
        """The data files of a snapshot (planned once per snapshot: files never change)."""
        cached = self._files.get(snapshot_id)
        if cached is not None:
            return cached
        table = self.table(name)
        if table.snapshot_by_id(snapshot_id) is None:
            table = self.table(name, refresh=True)
        planned = [
            ColdFile(
                path=task.file.file_path,
                bucket=int(task.file.partition[0]),
                rows=int(task.file.record_count),
                bytes=int(task.file.file_size_in_bytes),
                first_at=_bound(task.file.lower_bounds, _AT_FIELD),
                last_at=_bound(task.file.upper_bounds, _AT_FIELD),
            )
            for task in table.scan(snapshot_id=snapshot_id).plan_files()
        ]
        with self._lock:
            self._files[snapshot_id] = planned
        return planned

    def _dataset(self, name: str, files: Sequence[ColdFile]) -> ds.Dataset:
        table = self.table(name)
        scheme = urlparse(files[0].path).scheme or "file"
        filesystem = table.io.fs_by_scheme(scheme, urlparse(files[0].path).netloc)  # type: ignore[attr-defined]
        paths = [_fs_path(f.path) for f in files]
        return ds.dataset(paths, format="parquet", filesystem=filesystem, schema=table.schema().as_arrow())

    def _query(
        self, name: str, files: Sequence[ColdFile], sql: str, params: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        if not files:
            return []
        cursor = self._duck.cursor()
        try:
            cursor.register("cold", self._dataset(name, files))
            return cursor.execute(sql, list(params)).fetchall()
        finally:
            cursor.close()

    def by_ids(self, name: str, ids: Iterable[str], snapshot_id: int | None) -> dict[str, dict[str, Any]]:
        """The rows of these inferences as of the snapshot (None: the cold tier is empty)."""
        wanted = sorted(set(ids))
        if snapshot_id is None or not wanted:
            return {}
        buckets = {self._bucket(i) for i in wanted}
        files = [f for f in self.files(name, snapshot_id) if f.bucket in buckets]
        if not files:
            return {}
        # pyarrow's own filter, not SQL: an `id IN (subquery)` is a join DuckDB cannot push into the scan,
        # so it read a bucket's whole id column (0.5 s at 100M rows), while `isin` prunes row groups by
        # their id range (files are sorted by id): one row group per file.
        found = self._dataset(name, files).to_table(filter=ds.field("id").isin(wanted), columns=COLUMNS)
        rows: dict[str, dict[str, Any]] = {}
        for row in found.to_pylist():
            rows.setdefault(row["id"], row)
        return rows

    def existing(
        self, name: str, ids: pa.Array, first_at: datetime, last_at: datetime, snapshot_id: int | None
    ) -> pa.Table:
        """The cold rows among `ids` whose time lies in [first_at, last_at] — what a seal of inferences of
        that period must not land again. Only files whose time bounds overlap the period are read, so the
        cost follows the recent cold data, not all of it."""
        if snapshot_id is None or len(ids) == 0:
            return SCHEMA.as_arrow().empty_table()
        files = [
            f
            for f in self.files(name, snapshot_id)
            if f.first_at is None or f.last_at is None or (f.first_at <= last_at and f.last_at >= first_at)
        ]
        if not files:
            return SCHEMA.as_arrow().empty_table()
        cursor = self._duck.cursor()
        try:
            cursor.register("cold", self._dataset(name, files))
            cursor.register("wanted", pa.table({"id": ids}))
            period = [first_at.astimezone(UTC), last_at.astimezone(UTC)]
            return cursor.sql(_ROWS_IN_PERIOD, params=period).to_arrow_table()
        finally:
            cursor.close()

    def count_hours(
        self,
        name: str,
        hours: Sequence[tuple[str, str | None, datetime]],
        snapshot_id: int | None,
        as_of: datetime,
        known_at: datetime,
    ) -> dict[int, int]:
        """For each (model version, deployment, hour), how many cold inferences of it were valid by `as_of`
        and recorded by `known_at`: the part of a rollup bucket the graph can no longer recount."""
        if snapshot_id is None or not hours:
            return {}
        items = [
            {"n": n, "mv": mv, "dep": dep or "", "hour": hour.astimezone(UTC)}
            for n, (mv, dep, hour) in enumerate(hours)
        ]
        found = self._query(
            name,
            self.files(name, snapshot_id),
            "SELECT h.n, count(c.id) FROM (SELECT unnest(?, recursive := true)) h "
            "JOIN cold c ON c.model_version_id = h.mv AND coalesce(c.deployment_id, '') = h.dep "
            'AND c."at" >= h.hour AND c."at" < h.hour + INTERVAL 1 HOUR AND c."at" <= ? AND c.recorded_at <= ? '
            "GROUP BY h.n",
            [items, as_of.astimezone(UTC), known_at.astimezone(UTC)],
        )
        return {int(n): int(count) for n, count in found}

    def rows_by_write(self, name: str, snapshot_id: int | None) -> dict[str | None, list[dict[str, Any]]]:
        """Every cold row, grouped by the write that recorded it (the audit recomputes each batch's digest)."""
        if snapshot_id is None:
            return {}
        grouped: dict[str | None, list[dict[str, Any]]] = {}
        for values in self._query(name, self.files(name, snapshot_id), _ROWS, []):
            row = dict(zip(COLUMNS, values, strict=True))
            grouped.setdefault(row["recorded_in"], []).append(row)
        return grouped

    def stats(self, name: str, snapshot_id: int | None) -> ColdStats:
        if snapshot_id is None:
            return ColdStats(None, 0, 0, 0, None, None)
        files = self.files(name, snapshot_id)
        found = self._query(name, files, 'SELECT min("at"), max("at") FROM cold', [])
        oldest, newest = found[0] if found else (None, None)
        return ColdStats(
            snapshot_id=snapshot_id,
            rows=sum(f.rows for f in files),
            bytes=sum(f.bytes for f in files),
            files=len(files),
            oldest=oldest,
            newest=newest,
        )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AT_FIELD = SCHEMA.find_field("at").field_id


def _bound(bounds: dict[int, bytes] | None, field_id: int) -> datetime | None:
    """A timestamptz bound as Iceberg stores it: microseconds since the epoch, 8 bytes little-endian."""
    raw = (bounds or {}).get(field_id)
    if raw is None or len(raw) != 8:
        return None
    return _EPOCH + timedelta(microseconds=int.from_bytes(raw, "little", signed=True))


def _fs_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return parsed.path
    return parsed.netloc + parsed.path
