"""The retention policy refuses to delete inferences sooner than six months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from provgraph.config import ConfigError, Settings
from provgraph.domain.errors import InvalidArgument
from provgraph.domain.retention import RetentionPolicy

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def test_the_default_keeps_cold_inferences_forever_and_moves_after_30_days() -> None:
    policy = RetentionPolicy()
    assert policy.hot_cutoff(NOW) == NOW - timedelta(days=30)
    assert policy.delete_before(NOW) is None


def test_a_retention_under_183_days_is_refused() -> None:
    with pytest.raises(InvalidArgument) as refused:
        RetentionPolicy(cold_days=90)
    assert refused.value.field == "coldDays"
    with pytest.raises(InvalidArgument):
        RetentionPolicy(min_cold_days=30)
    assert RetentionPolicy(cold_days=400).delete_before(NOW) == NOW - timedelta(days=400)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PROVGRAPH_COLD_DAYS": "20"}, "kept at least 183 days"),
        ({"PROVGRAPH_HOT_DAYS": "x"}, "PROVGRAPH_HOT_DAYS must be an integer"),
        ({"PROVGRAPH_COLD_URI": "ftp://host/x"}, "PROVGRAPH_COLD_URI must be a file:// or s3:// URI"),
    ],
)
def test_bad_retention_settings_are_a_clear_config_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"NEO4J_URI": "bolt://127.0.0.1:1", **env})


def test_an_object_store_warehouse_gets_its_endpoint_and_a_local_catalog() -> None:
    settings = Settings.from_env(
        {
            "NEO4J_URI": "bolt://127.0.0.1:1",
            "PROVGRAPH_COLD_URI": "s3://bucket/inferences",
            "PROVGRAPH_COLD_S3_ENDPOINT": "http://127.0.0.1:9000",
            "PROVGRAPH_STATE_DIR": "/srv/provgraph",
        }
    )
    assert settings.cold.warehouse == "s3://bucket/inferences"
    assert settings.cold.catalog_uri == "sqlite:////srv/provgraph/cold-catalog.db"
    assert settings.cold.properties == {"s3.endpoint": "http://127.0.0.1:9000"}
