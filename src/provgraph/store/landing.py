"""The landing log of the columnar inference path: Arrow IPC segments on local disk.

A request's accepted rows are appended to the open segment as one record batch and flushed to disk
(`fsync`) before the request is answered, so an acknowledged inference survives a crash of the process or
the machine. The sealer (service/sealing.py) later turns closed segments into cold-tier snapshots and
deletes them once the graph records the seal.

A segment is `open-<id>.arrows` while written and `ready-<id>.arrows` once closed. A process holds an
exclusive `flock` on its open segment; an `open-` file nobody holds was left by a crashed process, and
its complete record batches are sealed like a closed segment's (a batch torn by the crash was never
acknowledged, so reading stops before it).
"""

from __future__ import annotations

import fcntl
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.ipc as ipc

# What a landed inference holds: resolved and validated, waiting for its seal to give it a recording time.
LANDED = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("model_version_id", pa.string(), nullable=False),
        pa.field("deployment_id", pa.string()),
        pa.field("input_digest", pa.string()),
        pa.field("output_digest", pa.string()),
        pa.field("latency_ms", pa.float64()),
        pa.field("recorded_by", pa.string(), nullable=False),
        pa.field("landed_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


@dataclass(frozen=True)
class Segment:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name.split("-", 1)[1].removesuffix(".arrows")


class LandingLog:
    """Append-only segments in one directory, shared by the processes of one service."""

    def __init__(self, directory: Path, max_rows: int = 1_000_000) -> None:
        self.directory = directory
        self.max_rows = max_rows  # a segment is closed at this size even between seals
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._writer: ipc.RecordBatchStreamWriter | None = None
        self._path: Path | None = None
        self._rows = 0

    def append(self, rows: pa.Table) -> None:
        """Write `rows` to the open segment and flush them to disk; returns when they are durable."""
        batch = rows.select(LANDED.names).cast(LANDED).combine_chunks().to_batches()
        with self._lock:
            if self._writer is None:
                self._open()
            assert self._writer is not None and self._file is not None
            for part in batch:
                self._writer.write_batch(part)
            self._file.flush()
            os.fsync(self._file.fileno())
            self._rows += rows.num_rows
            if self._rows >= self.max_rows:
                self._close()

    def rotate(self) -> None:
        """Close the open segment (if it holds anything) so the sealer can take it."""
        with self._lock:
            if self._writer is not None:
                self._close()

    def ready(self) -> list[Segment]:
        """Closed segments, and open ones no live process holds, oldest first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        found = [Segment(p) for p in self.directory.glob("ready-*.arrows")]
        for path in self.directory.glob("open-*.arrows"):
            if path != self._path and _abandoned(path):
                found.append(Segment(path))
        return sorted(found, key=lambda s: s.path.stat().st_mtime)

    @staticmethod
    def read(segment: Segment) -> pa.Table:
        """Every complete record batch of a segment (a torn last batch was never acknowledged)."""
        batches: list[pa.RecordBatch] = []
        try:
            with pa.OSFile(str(segment.path), "rb") as source:
                reader = ipc.open_stream(source)
                while True:
                    try:
                        batches.append(reader.read_next_batch())
                    except StopIteration:
                        break
        except (pa.ArrowInvalid, OSError):
            pass  # a crash mid-write: what came before is whole
        return pa.Table.from_batches(batches, schema=LANDED)

    @staticmethod
    def remove(segment: Segment) -> None:
        segment.path.unlink(missing_ok=True)

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.arrows"
        # Locked before it is named `open-`, so no other process ever sees it open and unlocked.
        staging = self.directory / f"new-{name}"
        self._file = open(staging, "wb")  # noqa: SIM115 — held open across appends, closed in _close
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._path = self.directory / f"open-{name}"
        staging.rename(self._path)
        self._writer = ipc.new_stream(self._file, LANDED)
        self._rows = 0

    def _close(self) -> None:
        assert self._writer is not None and self._file is not None and self._path is not None
        self._writer.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        # Renamed while still locked, so no other process takes the file for abandoned in between.
        self._path.rename(self.directory / self._path.name.replace("open-", "ready-", 1))
        self._file.close()
        self._file, self._writer, self._path, self._rows = None, None, None, 0


def _abandoned(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except BlockingIOError:
        return False
    except FileNotFoundError:
        return False
