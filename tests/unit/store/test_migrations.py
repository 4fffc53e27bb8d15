"""The migrations' own rules: they start right after the baseline, go up one version at a time, and each
says what it does; the code's version is the last one's."""

from __future__ import annotations

import pytest

from provgraph.store import migrations
from provgraph.store.migrations import BASELINE_VERSION, MIGRATIONS, SCHEMA_VERSION, Migration

STEP = ("MATCH (n:Nothing) RETURN n",)


def test_the_releases_migrations_follow_the_rules() -> None:
    migrations.validate(MIGRATIONS)
    assert MIGRATIONS[0].version == BASELINE_VERSION + 1 == 2
    versions = [m.version for m in MIGRATIONS]
    assert versions == sorted(set(versions))  # strictly increasing
    assert SCHEMA_VERSION == MIGRATIONS[-1].version == migrations.code_version()


def test_a_migration_is_a_frozen_value() -> None:
    with pytest.raises(AttributeError):
        MIGRATIONS[0].version = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ((Migration(1, "the baseline again", STEP),), "migration 1 .* expected version 2"),
        ((Migration(3, "skips 2", STEP),), "migration 3 .* expected version 2"),
        ((Migration(2, "a", STEP), Migration(2, "again", STEP)), "migration 2 .* expected version 3"),
        ((Migration(2, "a", STEP), Migration(4, "a gap", STEP)), "migration 4 .* expected version 3"),
        ((Migration(3, "b", STEP), Migration(2, "a", STEP)), "migration 3 .* expected version 2"),
        ((Migration(2, "  ", STEP),), "migration 2 has no description"),
        ((Migration(2, "nothing to run", ()),), "migration 2 has no statements"),
    ],
)
def test_out_of_order_or_empty_migrations_are_refused(steps: tuple[Migration, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        migrations.validate(steps)


def test_the_code_version_follows_the_migrations() -> None:
    assert migrations.code_version(()) == BASELINE_VERSION
    extra = (*MIGRATIONS, Migration(SCHEMA_VERSION + 1, "next", STEP))
    migrations.validate(extra)
    assert migrations.code_version(extra) == SCHEMA_VERSION + 1


def test_schema_too_new_names_both_versions_and_has_its_code() -> None:
    error = migrations.SchemaTooNew(7, 3)
    assert error.code == "SCHEMA_TOO_NEW"
    assert "version 7" in error.message and "(3)" in error.message
    assert (error.database_version, error.code_version) == (7, 3)
