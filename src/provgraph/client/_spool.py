"""The logger's on-disk spool: batches that could not be delivered, kept as NDJSON files until they are.

File names. A spool file is `<time_ns, 20 digits>-<pid>-<uuid>-n<records>.ndjson`: the time orders replay
oldest first, and the record count lets the logger report how many records wait on disk from a directory
listing alone (files written by older versions, without `-n<records>`, are counted by reading them once).
Files are written under a temporary name (`.<pid>-<owner>-<uuid>.tmp`), fsynced, then renamed, so a
reader never sees half a file.

Claims. Before a file is sent it is renamed to `<name>.sending-<pid>-<owner>` (`owner` is unique to one
`Spool` object), so two loggers sharing the directory never send the same file at once. The logger always
gives a claim back (`release`) or finishes it (`done`, `replace`). A claim left behind by a process that
died is taken back at every `scan`: its process is gone, or it has this process's pid but an owner no live
`Spool` here has (the pid was reused, as happens to pid 1 in a restarted container), or nobody has touched
it for `stale_after` seconds (a live claimant touches its claim before each request). Taking back a claim
that was still in use costs at most a duplicate delivery, which the service ignores (each key lands once).

A temporary file left by a dead process (killed between write and rename) is recovered the same way: its
complete lines are replayed. A line that does not parse is skipped and counted, the rest of the file kept.

A `Spool` is used by one thread (the logger's sender thread); its counts are plain attributes that thread
publishes to the logger's locked state.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("provgraph.client.spool")

SUFFIX = ".ndjson"
CLAIM = ".sending-"
TMP_SUFFIX = ".tmp"
DEFAULT_STALE_AFTER = 300.0

_COUNT_IN_NAME = re.compile(r"-n(\d+)\.ndjson$")
_TIME_PREFIX = re.compile(r"^(\d{20})-")
# `.<pid>-<owner>-<uuid>.tmp`, or `.<pid>-<uuid>.tmp` from versions before owners.
_TMP_NAME = re.compile(r"^\.(\d+)-([0-9a-f]+)(?:-([0-9a-f]+))?\.tmp$")

# Owners (see the module docstring) of the Spool objects alive in this process: a claim or temporary file
# with this process's pid and an owner not listed here was left by an earlier process with the same pid.
_LIVE_OWNERS: set[str] = set()
_LIVE_OWNERS_LOCK = threading.Lock()


@dataclass(frozen=True)
class SpoolFile:
    """A claimed spool file: `path` is its claimed name, `name` its name when unclaimed."""

    path: Path
    name: str
    records: list[dict[str, Any]]
    corrupt_lines: int


@dataclass(frozen=True)
class _Entry:
    records: int
    size: int
    claimed: bool  # by some live process (possibly this one); not to be replayed by us


class Spool:
    """Parameters:
    directory: where spool files live (created if missing).
    max_bytes: the most the spool may hold; `write` refuses beyond it.
    stale_after: seconds after which an untouched claim is taken back even if its process seems alive.
    """

    def __init__(self, directory: Path, max_bytes: int, *, stale_after: float = DEFAULT_STALE_AFTER) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.stale_after = stale_after
        self.owner = uuid.uuid4().hex[:12]
        with _LIVE_OWNERS_LOCK:
            _LIVE_OWNERS.add(self.owner)
        self._entries: dict[str, _Entry] = {}
        self._counted: dict[str, int] = {}  # files without a count in their name, counted by reading
        self.records = 0
        self.files = 0
        self.bytes = 0
        directory.mkdir(parents=True, exist_ok=True)
        self.scan()

    def close(self) -> None:
        """Forget this spool's owner; call when no claim of it can be in use any more."""
        with _LIVE_OWNERS_LOCK:
            _LIVE_OWNERS.discard(self.owner)

    # -- compatibility with the earlier interface -----------------------------------------------------------
    def size(self) -> int:
        return self.bytes

    def pending_files(self) -> int:
        return self.files

    # -- listing ----------------------------------------------------------------------------------------------
    def scan(self) -> list[str]:
        """List the directory, take back stale claims and temporary files, and refresh the counts.
        Returns the names of the files ready to replay, oldest first."""
        with os.scandir(self.directory) as listing:
            names = [entry.name for entry in listing]  # read fully first: we rename while walking
        entries: dict[str, _Entry] = {}
        for name in names:
            path = self.directory / name
            if _TMP_NAME.match(name):
                recovered = self._recover_tmp(path)
                if recovered is None:
                    continue
                name, path = recovered, self.directory / recovered
            claimed = False
            if CLAIM in name:
                base, _, claimant = name.rpartition(CLAIM)
                if not base.endswith(SUFFIX):
                    continue
                if self._stale(claimant, path):
                    try:
                        os.replace(path, self.directory / base)
                    except FileNotFoundError:
                        continue  # another logger took it back (or finished it) first
                    except OSError as exc:
                        log.warning("spool: cannot take back the stale claim %s: %s", name, exc)
                        continue
                    log.warning("spool: took back %s, claimed by a process that is gone", base)
                    path = self.directory / base
                else:
                    claimed = True
            elif name.endswith(SUFFIX):
                base = name
            else:
                continue
            try:
                size = path.stat().st_size
                records = self._count(base, path)
            except FileNotFoundError:
                continue  # sent and removed by another logger meanwhile
            except OSError as exc:  # one unreadable file must not stop the others from being replayed
                log.warning("spool: cannot read %s: %s", name, exc)
                continue
            entries[base] = _Entry(records, size, claimed)
        self._entries = entries
        self._counted = {n: c for n, c in self._counted.items() if n in entries}
        self._total()
        return sorted(name for name, entry in entries.items() if not entry.claimed)

    # -- writing ----------------------------------------------------------------------------------------------
    def write(self, records: list[dict[str, Any]]) -> str | None:
        """Store a batch as one file; returns its name, or None (nothing written) when the spool is full."""
        if not records:
            return None
        # ensure_ascii: any str, even a lone surrogate, is written; the replay checks records again.
        data = "".join(json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in records).encode()
        if self.bytes + len(data) > self.max_bytes:
            return None
        return self._put(records, data, None)

    def _put(self, records: list[dict[str, Any]], data: bytes, time_ns: int | None) -> str:
        unique = uuid.uuid4().hex
        stamp = time.time_ns() if time_ns is None else time_ns
        name = f"{stamp:020d}-{os.getpid()}-{unique}-n{len(records)}{SUFFIX}"
        tmp = self.directory / f".{os.getpid()}-{self.owner}-{unique}{TMP_SUFFIX}"
        try:
            with tmp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        self._fsync_directory()
        self._entries[name] = _Entry(len(records), len(data), claimed=False)
        self._total()
        return name

    # -- replaying --------------------------------------------------------------------------------------------
    def claim(self, name: str) -> SpoolFile | None:
        """Claim one file and read it; None when another logger took or finished it first."""
        path = self.directory / name
        claimed = self.directory / f"{name}{CLAIM}{os.getpid()}-{self.owner}"
        try:
            os.replace(path, claimed)
        except FileNotFoundError:
            self._forget(name)
            return None
        try:
            # A rename keeps the old mtime; touch the claim so nobody mistakes it for an abandoned one.
            os.utime(claimed)
            records, corrupt = _read(claimed)
        except BaseException:
            self._unclaim(claimed, name)
            raise
        entry = self._entries.get(name)
        if entry is not None:
            self._entries[name] = _Entry(len(records) + corrupt, entry.size, claimed=True)
            self._total()
        return SpoolFile(claimed, name, records, corrupt)

    def heartbeat(self, spooled: SpoolFile) -> None:
        """Show that the claim is in use (before each request, which may take up to the HTTP timeout)."""
        # If another logger took it back meanwhile, at worst both send it, and the service keeps one.
        with contextlib.suppress(OSError):
            os.utime(spooled.path)

    def done(self, spooled: SpoolFile) -> None:
        """Every record of the file is settled: remove it."""
        spooled.path.unlink(missing_ok=True)
        self._forget(spooled.name)

    def release(self, spooled: SpoolFile) -> None:
        """Give a claimed file back unchanged (its delivery failed; it will be tried again)."""
        self._unclaim(spooled.path, spooled.name)

    def replace(self, spooled: SpoolFile, remaining: list[dict[str, Any]]) -> str | None:
        """Keep only `remaining` of a claimed file (the others were settled or unreadable), at the same
        place in replay order; returns the new file's name (None if nothing remains)."""
        name = None
        if remaining:
            data = "".join(json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in remaining)
            match = _TIME_PREFIX.match(spooled.name)
            # No size check: the new file is smaller than the one it replaces.
            name = self._put(remaining, data.encode(), int(match.group(1)) if match else None)
        self.done(spooled)
        return name

    # -- internals --------------------------------------------------------------------------------------------
    def _unclaim(self, claimed: Path, name: str) -> None:
        try:
            os.replace(claimed, self.directory / name)
        except FileNotFoundError:
            return  # another logger took it back as stale; it is under its own name again
        entry = self._entries.get(name)
        if entry is not None:
            self._entries[name] = _Entry(entry.records, entry.size, claimed=False)

    def _forget(self, name: str) -> None:
        if self._entries.pop(name, None) is not None:
            self._total()

    def _total(self) -> None:
        self.records = sum(e.records for e in self._entries.values())
        self.files = len(self._entries)
        self.bytes = sum(e.size for e in self._entries.values())

    def _count(self, base: str, path: Path) -> int:
        match = _COUNT_IN_NAME.search(base)
        if match:
            return int(match.group(1))
        if base not in self._counted:
            self._counted[base] = sum(1 for line in path.read_bytes().splitlines() if line.strip())
        return self._counted[base]

    def _stale(self, claimant: str, path: Path) -> bool:
        pid_text, _, owner = claimant.partition("-")
        if _owner_gone(pid_text, owner):
            return True
        if pid_text == str(os.getpid()):
            return False  # one of this process's live spools: it will release or finish the claim
        try:
            return time.time() - path.stat().st_mtime > self.stale_after
        except FileNotFoundError:
            return False

    def _recover_tmp(self, path: Path) -> str | None:
        """A temporary file of a dead writer becomes a spool file (its readable lines are replayed)."""
        match = _TMP_NAME.match(path.name)
        assert match is not None
        pid_text = match.group(1)
        owner = match.group(2) if match.group(3) else ""  # the older form has no owner
        try:
            mtime_ns = path.stat().st_mtime_ns
        except FileNotFoundError:
            return None
        old = time.time_ns() - mtime_ns > self.stale_after * 1e9
        if not (_owner_gone(pid_text, owner) or (old and pid_text != str(os.getpid()))):
            return None  # a write in progress
        name = f"{mtime_ns:020d}-{pid_text}-{uuid.uuid4().hex}-recovered{SUFFIX}"
        try:
            os.replace(path, self.directory / name)
        except OSError:
            return None
        log.warning("spool: recovered %s, left by a writer that is gone, as %s", path.name, name)
        return name

    def _fsync_directory(self) -> None:
        # Makes the rename itself durable across a power loss; a process crash does not need it.
        try:
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _owner_gone(pid_text: str, owner: str) -> bool:
    """Whether the process (and, for this process, the Spool object) that made a claim or temporary file
    is certainly gone."""
    if not pid_text.isdigit():
        return True  # not a name we write: nobody will release it
    pid = int(pid_text)
    if pid == os.getpid():
        with _LIVE_OWNERS_LOCK:
            return owner not in _LIVE_OWNERS
    return not _alive(pid)


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
        return True  # it exists, under another user
    except OSError:
        return False
    return True
