"""The landing log keeps what it acknowledged: closed and abandoned segments are found, a torn last batch
is dropped (it was never acknowledged), and a live process's open segment is left alone."""

from __future__ import annotations

import fcntl
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from provgraph.config import ConfigError, Settings
from provgraph.store.landing import LANDED, LandingLog

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _rows(prefix: str, n: int) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "id": f"inference:{prefix}{k}",
                "at": NOW,
                "model_version_id": "modelVersion:m:1",
                "deployment_id": None,
                "input_digest": None,
                "output_digest": None,
                "latency_ms": float(k),
                "recorded_by": "test",
                "landed_at": NOW,
            }
            for k in range(n)
        ],
        schema=LANDED,
    )


def test_appended_batches_are_read_back_once_the_segment_is_closed(tmp_path: Path) -> None:
    log = LandingLog(tmp_path)
    log.append(_rows("a", 3))
    log.append(_rows("b", 2))
    assert log.ready() == []  # still open in this process
    log.rotate()
    (segment,) = log.ready()
    assert segment.path.name.startswith("ready-")
    assert LandingLog.read(segment).column("id").to_pylist() == [
        *(f"inference:a{k}" for k in range(3)),
        *(f"inference:b{k}" for k in range(2)),
    ]
    LandingLog.remove(segment)
    assert log.ready() == []


def test_a_segment_closes_itself_at_its_size_limit(tmp_path: Path) -> None:
    log = LandingLog(tmp_path, max_rows=4)
    log.append(_rows("a", 5))
    assert len(log.ready()) == 1
    log.append(_rows("b", 1))
    log.rotate()
    assert sorted(LandingLog.read(s).num_rows for s in log.ready()) == [1, 5]


def test_a_torn_last_batch_is_dropped_and_the_whole_ones_kept(tmp_path: Path) -> None:
    writer = LandingLog(tmp_path)
    writer.append(_rows("a", 3))
    writer.append(_rows("b", 3))
    writer.rotate()
    (segment,) = writer.ready()
    whole = segment.path.read_bytes()
    segment.path.write_bytes(whole[: len(whole) - 40])  # the crash cut the second batch short
    assert LandingLog.read(segment).column("id").to_pylist() == [f"inference:a{k}" for k in range(3)]


def test_an_open_segment_is_taken_only_once_no_process_holds_it(tmp_path: Path) -> None:
    live = LandingLog(tmp_path)
    live.append(_rows("a", 2))
    other = LandingLog(tmp_path)  # another process's view of the same directory
    assert other.ready() == []  # the writer still holds its lock
    (opened,) = tmp_path.glob("open-*.arrows")
    assert live._file is not None
    fcntl.flock(live._file.fileno(), fcntl.LOCK_UN)  # what the writer's death does to its lock
    (abandoned,) = other.ready()
    assert abandoned.path == opened
    assert LandingLog.read(abandoned).num_rows == 2
    live.rotate()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PROVGRAPH_INFERENCE_SINK": "kafka"}, "PROVGRAPH_INFERENCE_SINK must be one of graph, columnar"),
        ({"PROVGRAPH_SEAL_EVERY": "0"}, "PROVGRAPH_SEAL_EVERY must be a positive number of seconds"),
        ({"PROVGRAPH_SEAL_EVERY": "soon"}, "PROVGRAPH_SEAL_EVERY must be a number"),
    ],
)
def test_bad_columnar_settings_are_a_clear_config_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"NEO4J_URI": "bolt://127.0.0.1:1", **env})


def test_the_columnar_settings_default_to_the_graph_path_and_a_landing_dir_in_the_state_dir() -> None:
    settings = Settings.from_env({"NEO4J_URI": "bolt://127.0.0.1:1", "PROVGRAPH_STATE_DIR": "/srv/pg"})
    assert settings.inference_sink == "graph"
    assert settings.landing_dir == Path("/srv/pg/landing")
    assert settings.seal_every == 10.0
