from __future__ import annotations

import pytest
from pydantic import ValidationError

from greenpark.settings import Settings


def test_production_refuses_unsafe_defaults() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", database_url="postgresql+psycopg://x@y/z")
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(env="production", secret_key="x" * 40)
    ok = Settings(env="production", secret_key="x" * 40, database_url="postgresql+psycopg://x@y/z")
    assert ok.secure_cookies


def test_default_is_sqlite_file(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATA_DIR", "/tmp/gp-x")
    s = Settings()
    assert s.effective_database_url == "sqlite:////tmp/gp-x/greenpark.sqlite"
    assert s.language == "zh"
