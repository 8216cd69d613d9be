"""Run Alembic migrations programmatically (``greenpark init``) and compare models to them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from greenpark.store.db import engine_for
from greenpark.store.models import Base

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["engine"] = engine_for(url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Create or migrate the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def model_migration_diff(url: str) -> list[Any]:
    """Differences between the ORM models and the migrated schema (empty when they agree)."""
    with engine_for(url).connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def schema_status(url: str) -> tuple[str | None, str]:
    """(revision the database is at, revision this greenpark needs)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""
    with engine_for(url).connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head
