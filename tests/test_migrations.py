"""Both databases run the same migrations, and the models agree with them."""

from __future__ import annotations

from greenpark.store.migrate import model_migration_diff, upgrade


def test_models_match_migrations(fresh_url: str) -> None:
    assert model_migration_diff(fresh_url) == []


def test_upgrade_is_idempotent(fresh_url: str) -> None:
    upgrade(fresh_url)
    assert model_migration_diff(fresh_url) == []
