"""The logger's on-disk spool: batches that could not be delivered, kept as NDJSON files until they are.

Files are written atomically (a temporary name, then a rename) and claimed by renaming before they are
sent, so two loggers sharing a directory do not send the same file at once; a claim left by a process that
died is released at start-up. A line that does not parse is skipped and counted, the rest of the file kept.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("provgraph.client.spool")

SUFFIX = ".ndjson"


@dataclass(frozen=True)
class SpoolFile:
    path: Path
    records: list[dict[str, Any]]
    corrupt_lines: int


class Spool:
    """Parameters:
    directory: where spool files live (created if missing).
    max_bytes: the most the spool may hold; `write` refuses beyond it.
    """

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._release_dead_claims()

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.directory.glob(f"*{SUFFIX}*") if p.is_file())

    def pending_files(self) -> int:
        return len(list(self.directory.glob(f"*{SUFFIX}")))

    def write(self, records: list[dict[str, Any]]) -> bool:
        """Append a batch as one file. False (nothing written) when the spool is full."""
        data = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()
        if self.size() + len(data) > self.max_bytes:
            return False
        name = f"{os.getpid()}-{uuid.uuid4().hex}"
        tmp = self.directory / f".{name}.tmp"
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # Name by time so files are replayed oldest first.
        os.replace(tmp, self.directory / f"{_now_ns():020d}-{name}{SUFFIX}")
        return True

    def claim(self) -> Iterator[SpoolFile]:
        """Yield spool files oldest first, each renamed to a claim this process holds."""
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            claimed = path.with_name(f"{path.name}.sending-{os.getpid()}")
            try:
                os.replace(path, claimed)
            except FileNotFoundError:
                continue  # another logger took it
            records, corrupt = _read(claimed)
            yield SpoolFile(claimed, records, corrupt)

    def done(self, spooled: SpoolFile) -> None:
        spooled.path.unlink(missing_ok=True)

    def release(self, spooled: SpoolFile) -> None:
        """Give a claimed file back (its delivery failed; it will be tried again)."""
        original = spooled.path.name.rsplit(".sending-", 1)[0]
        os.replace(spooled.path, spooled.path.with_name(original))

    def _release_dead_claims(self) -> None:
        for path in self.directory.glob(f"*{SUFFIX}.sending-*"):
            pid = int(path.name.rsplit("-", 1)[1]) if path.name.rsplit("-", 1)[1].isdigit() else -1
            if pid != os.getpid() and not _alive(pid):
                os.replace(path, path.with_name(path.name.rsplit(".sending-", 1)[0]))


def _read(path: Path) -> tuple[list[dict[str, Any]], int]:
    records: list[dict[str, Any]] = []
    corrupt = 0
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            record = None
        if isinstance(record, dict) and isinstance(record.get("key"), str):
            records.append(record)
        else:
            corrupt += 1
            log.warning(
                "spool file %s line %d is corrupt; skipping it and keeping the rest", path.name, number
            )
    return records, corrupt


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now_ns() -> int:
    import time

    return time.time_ns()
