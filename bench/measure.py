"""Timing helpers: percentiles, CPU seconds per process, the machine description."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds of samples in seconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "p50_ms": round(at(0.5), 3),
        "p95_ms": round(at(0.95), 3),
        "p99_ms": round(at(0.99), 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "n": len(ordered),
    }


def timed(action: Callable[[], Any], iterations: int, warmup: int = 0) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc), so results do not depend on how the
    two shared cores were split."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class CpuMeter:
    pids: dict[str, int]

    def snapshot(self) -> dict[str, float]:
        out = {}
        for name, pid in self.pids.items():
            try:
                out[name] = cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError):
                out[name] = float("nan")
        return out

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: round(after[name] - before[name], 3) for name in before}


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def environment(neo4j_version: str, heap: str, pagecache: str) -> dict[str, Any]:
    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except FileNotFoundError:
        pass
    java = subprocess.run(
        ["java", "-version"], capture_output=True, text=True, check=False
    ).stderr.splitlines()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "java": java[0] if java else None,
        "neo4j": f"{neo4j_version} Community",
        "neo4j_heap": heap,
        "neo4j_pagecache": pagecache,
        "packages": {
            p: version(p)
            for p in ("neo4j", "neo4j-rust-ext", "strawberry-graphql", "starlette", "uvicorn", "httpx")
        },
    }


def fsync_latency(directory: Path, iterations: int) -> dict[str, float]:
    path = directory / "fsync-probe.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        samples = []
        for _ in range(iterations):
            started = time.perf_counter()
            os.write(fd, b"x" * 512)
            os.fsync(fd)
            samples.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return percentiles(samples)
