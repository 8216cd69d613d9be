from __future__ import annotations

import math
import secrets

import pytest
from pydantic import ValidationError

from greenpark.settings import Settings, secret_bits

GOOD = secrets.token_urlsafe(32)
PG = "postgresql+psycopg://x@y/z"


def test_production_refuses_unsafe_defaults() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env="production", database_url=PG)
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(env="production", secret_key=GOOD)
    ok = Settings(env="production", secret_key=GOOD, database_url=PG)
    assert ok.secure_cookies


@pytest.mark.parametrize(
    "weak", ["a" * 32, "x" * 40, "ab" * 20, "0123456789" * 4, "password1234password1234password12"]
)
def test_production_refuses_low_entropy_secrets_without_printing_them(weak: str) -> None:
    with pytest.raises(ValidationError) as err:
        Settings(env="production", secret_key=weak, database_url=PG)
    assert "SECRET_KEY" in str(err.value)
    assert weak not in str(err.value) and weak[:12] not in str(err.value)


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ValidationError, match="PostgreSQL") as err:
        Settings(env="production", secret_key=GOOD, database_url="sqlite:///var/greenpark.sqlite")
    assert GOOD not in str(err.value)


def test_secret_bits_against_hand_counts() -> None:
    # hand counts: "a"*32 is one symbol (0 bits); "ab"*16 repeats a two-symbol unit (2 bits);
    # "0123456789"*4 repeats ten equally frequent digits (10 × log2 10 ≈ 33 bits)
    assert secret_bits("a" * 32) == 0
    assert secret_bits("ab" * 16) == pytest.approx(2)  # a repeated unit of two symbols: 2 bits
    assert secret_bits("0123456789" * 4) == pytest.approx(10 * math.log2(10))
    assert secret_bits(GOOD) > 128
    assert repr(Settings(secret_key=GOOD).secret_key) == "SecretStr('**********')"


def test_default_is_sqlite_file(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREENPARK_DATA_DIR", "/tmp/gp-x")
    s = Settings()
    assert s.effective_database_url == "sqlite:////tmp/gp-x/greenpark.sqlite"
    assert s.language == "zh"
