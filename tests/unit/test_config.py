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
