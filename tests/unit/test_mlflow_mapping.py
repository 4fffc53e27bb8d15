"""The MLflow importer's mapping rules: names provgraph accepts, deterministically; roles, statuses, and the
stage paths the registry rules allow."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest

from provgraph.domain.ids import NAME_PATTERN
from provgraph.domain.registry import ALLOWED_TRANSITIONS, Stage
from provgraph.interchange import mlflow_mapping as m


@pytest.mark.parametrize("name", ["sentiment", "reviews-v1.2", "team/model+large", "a" * 128])
def test_a_name_provgraph_accepts_is_kept_as_it_is(name: str) -> None:
    assert m.provgraph_name(name) == name


@pytest.mark.parametrize(
    ("raw", "starts"),
    [
        ("Sentiment analysis: v2", "Sentiment-analysis-v2-"),
        ("_private", "private-"),
        ("  ", ""),
        ("é" * 10, ""),
        ("x" * 200, "x" * 100),
    ],
)
def test_other_names_are_mapped_with_a_hash_of_the_original(raw: str, starts: str) -> None:
    mapped = m.provgraph_name(raw)
    assert NAME_PATTERN.fullmatch(mapped)
    assert mapped.startswith(starts)
    assert mapped.endswith(hashlib.sha256(raw.encode()).hexdigest()[:8])
    assert m.provgraph_name(raw) == mapped  # the same on every import


def test_names_that_differ_in_mlflow_stay_different() -> None:
    names = ["my model", "my:model", "my-model", "my/model", "my  model"]
    assert len({m.provgraph_name(n) for n in names}) == len(names)


def test_keys_and_aliases_follow_the_services_rules() -> None:
    assert m.metric_key("val_f1") == "val_f1"
    assert re.fullmatch(r"batch-size-[0-9a-f]{8}", m.metric_key("batch size"))
    assert m.alias_name("champion") == "champion"
    for raw in ("Champion", "2nd-best", "__x__", "prod candidate"):
        assert m.ALIAS_PATTERN.fullmatch(m.alias_name(raw)), raw
    assert m.alias_name("Champion") != m.alias_name("champion")


def test_contexts_become_roles_and_statuses_map() -> None:
    assert [m.input_role(c) for c in ("training", "Validation", "testing", "eval", None)] == [
        "TRAIN",
        "VALIDATION",
        "TEST",
        "OTHER",
        "OTHER",
    ]
    assert [m.run_status(s) for s in ("FINISHED", "FAILED", "KILLED", "RUNNING", "SCHEDULED")] == [
        "FINISHED",
        "FAILED",
        "FAILED",
        "RUNNING",
        "RUNNING",
    ]


@pytest.mark.parametrize("current", list(Stage))
@pytest.mark.parametrize("target", list(Stage))
def test_every_stage_is_reached_through_allowed_transitions(current: Stage, target: Stage) -> None:
    path = m.stage_path(current, target)
    if current is target:
        assert path == ([] if target is Stage.NONE else [target])
        return
    assert path[-1] is target
    for before, after in zip([current, *path], path, strict=False):
        assert after in ALLOWED_TRANSITIONS[before]


def test_production_is_reached_through_staging() -> None:
    assert m.stage_path(Stage.NONE, Stage.PRODUCTION) == [Stage.STAGING, Stage.PRODUCTION]
    assert m.stage_path(Stage.NONE, Stage.ARCHIVED) == [Stage.ARCHIVED]
    assert m.stage_of("Production") is Stage.PRODUCTION
    assert m.stage_of(None) is Stage.NONE


def test_dataset_sources_name_where_the_data_lives() -> None:
    s3 = m.source_of("s3", '{"uri": "s3://acme-bucket/reviews/train.csv"}')
    assert s3 == m.SourceRef("s3/acme-bucket/reviews/train.csv", "s3", "s3://acme-bucket/reviews/train.csv")
    http = m.source_of("http", '{"url": "https://example.com/val.csv?x=1"}')
    assert isinstance(http, m.SourceRef)
    assert http.kind == "http"
    assert http.name.startswith("https/example.com/val.csv-x-1-")
    local = m.source_of("local", '{"uri": "/data/reviews.parquet"}')
    assert isinstance(local, m.SourceRef)
    assert local.name == "local/data/reviews.parquet"
    code = m.source_of("code", '{"tags": {"mlflow.source.name": "train.py"}}')
    assert code == "its source (type 'code') names no data location"


def test_since_takes_a_date_or_a_time() -> None:
    assert m.parse_since("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert m.parse_since("2026-03-01T10:00:00+02:00") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="ISO 8601"):
        m.parse_since("yesterday")


def test_values_provgraph_cannot_keep_are_reported() -> None:
    params, problems = m.params_of({"lr": "0.01", "prompt": "x" * 5000})
    assert params == {"lr": "0.01"}
    assert problems == ["param 'prompt' left out: its value is not text of at most 4096 characters"]
    metrics, problems = m.metrics_of({"acc": 0.9, "loss": float("nan")})
    assert metrics == {"acc": 0.9}
    assert problems == ["metric 'loss' left out: nan is not a finite number"]
    assert m.logged_model_id("models:/m-6ff26eb2") == "m-6ff26eb2"
    assert m.logged_model_id("runs:/abc/model") is None
