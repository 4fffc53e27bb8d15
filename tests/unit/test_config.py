import json
from pathlib import Path

import pytest

from provgraph.config import ConfigError, Settings


def test_without_neo4j_uri_the_local_server_is_used(tmp_path: Path) -> None:
    (tmp_path / "neo4j").mkdir()
    (tmp_path / "neo4j" / "connection.json").write_text(
        json.dumps({"uri": "bolt://127.0.0.1:7999", "user": "neo4j", "password": "pw"})
    )
    settings = Settings.from_env({"PROVGRAPH_STATE_DIR": str(tmp_path)})
    assert (settings.neo4j_uri, settings.neo4j_password) == ("bolt://127.0.0.1:7999", "pw")
    assert settings.environment == "production"


def test_explicit_neo4j_settings_win(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "NEO4J_URI": "neo4j://cluster.example:7687",
            "NEO4J_USER": "svc",
            "NEO4J_PASSWORD": "secret",
            "NEO4J_DATABASE": "prov",
            "PROVGRAPH_PORT": "9000",
            "PROVGRAPH_ENV": "development",
        }
    )
    assert settings.neo4j_uri == "neo4j://cluster.example:7687"
    assert (settings.neo4j_user, settings.neo4j_database, settings.port) == ("svc", "prov", 9000)
    assert settings.development


def test_no_uri_and_no_local_server_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="provgraph neo4j start"):
        Settings.from_env({"PROVGRAPH_STATE_DIR": str(tmp_path)})


@pytest.mark.parametrize(
    ("key", "value"),
    [("PROVGRAPH_PORT", "eighty"), ("PROVGRAPH_DB_TIMEOUT", "soon"), ("PROVGRAPH_ENV", "staging")],
)
def test_malformed_values_are_reported_by_name(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key if key != "PROVGRAPH_ENV" else "PROVGRAPH_ENV"):
        Settings.from_env({"NEO4J_URI": "bolt://x", key: value})


def test_serving_knobs_default_and_parse() -> None:
    base = {"NEO4J_URI": "bolt://db:7687"}
    default = Settings.from_env(base)
    assert (default.workers, default.http_parser, default.event_loop, default.warm_plans) == (
        1,
        "auto",
        "auto",
        True,
    )
    tuned = Settings.from_env(
        {
            **base,
            "PROVGRAPH_WORKERS": "2",
            "PROVGRAPH_HTTP": "h11",
            "PROVGRAPH_LOOP": "asyncio",
            "PROVGRAPH_WARM_PLANS": "0",
        }
    )
    assert (tuned.workers, tuned.http_parser, tuned.event_loop, tuned.warm_plans) == (
        2,
        "h11",
        "asyncio",
        False,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PROVGRAPH_WORKERS", "abc", "PROVGRAPH_WORKERS must be an integer"),
        ("PROVGRAPH_WORKERS", "0", "PROVGRAPH_WORKERS must be between 1 and 64"),
        ("PROVGRAPH_HTTP", "http2", "PROVGRAPH_HTTP must be one of auto, h11, httptools"),
        ("PROVGRAPH_LOOP", "trio", "PROVGRAPH_LOOP must be one of auto, asyncio, uvloop"),
        ("PROVGRAPH_WARM_PLANS", "maybe", "PROVGRAPH_WARM_PLANS must be 1 or 0"),
        ("PROVGRAPH_LOG_FORMAT", "xml", "PROVGRAPH_LOG_FORMAT must be one of text, json"),
        ("PROVGRAPH_ACCESS_LOG", "loud", "PROVGRAPH_ACCESS_LOG must be 1 or 0"),
        ("PROVGRAPH_METRICS_ALLOW", "10.0.0.0/8, prometheus", "'prometheus' is neither"),
    ],
)
def test_bad_serving_knobs_are_refused_with_the_variable_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"NEO4J_URI": "bolt://db:7687", name: value})


def test_operability_knobs_default_and_parse() -> None:
    base = {"NEO4J_URI": "bolt://db:7687"}
    default = Settings.from_env(base)
    assert (default.log_format, default.access_log, default.metrics_allow, default.otlp_endpoint) == (
        "text",
        True,
        ("127.0.0.1", "::1"),
        None,
    )
    tuned = Settings.from_env(
        {
            **base,
            "PROVGRAPH_LOG_FORMAT": "json",
            "PROVGRAPH_ACCESS_LOG": "0",
            "PROVGRAPH_METRICS_ALLOW": "10.0.0.0/8, 192.168.1.5",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_SERVICE_NAME": "provgraph-eu",
        }
    )
    assert (tuned.log_format, tuned.access_log, tuned.metrics_allow) == (
        "json",
        False,
        ("10.0.0.0/8", "192.168.1.5"),
    )
    assert (tuned.otlp_endpoint, tuned.service_name) == ("http://collector:4318", "provgraph-eu")
    assert Settings.from_env({**base, "PROVGRAPH_METRICS_ALLOW": ""}).metrics_allow == ()
    disabled = {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    assert Settings.from_env(disabled).otlp_endpoint is None
