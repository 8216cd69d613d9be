"""One Settings object, read from the environment (prefix GREENPARK_)."""

from __future__ import annotations

import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused outside development
#: A production secret must carry at least this many bits by its characters' frequencies
#: (``python -c "import secrets; print(secrets.token_urlsafe(32))"`` gives about 200).
MIN_SECRET_BITS = 128


def secret_bits(secret: str) -> float:
    """An estimate of a secret's entropy in bits: the length of its shortest repeating unit times
    the Shannon entropy of that unit's characters. ``"a" * 32`` has 0, ``"0123456789" * 4`` about
    33; 43 characters of ``secrets.token_urlsafe(32)`` about 200."""
    if not secret:
        return 0.0
    unit = next(
        secret[:p]
        for p in range(1, len(secret) + 1)
        if (secret[:p] * (len(secret) // p + 1))[: len(secret)] == secret
    )
    n = len(unit)
    per_char = -sum(c / n * math.log2(c / n) for c in Counter(unit).values())
    return n * per_char


class Settings(BaseSettings):
    """greenpark settings. Unsafe defaults are refused unless ``env`` is ``development`` (or
    ``test``); a refusal never repeats the secret it refuses."""

    model_config = SettingsConfigDict(env_prefix="GREENPARK_", extra="ignore", hide_input_in_errors=True)

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"))
    database_url: str = ""
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    language: Literal["zh", "en"] = "zh"
    session_max_age_s: int = Field(default=8 * 3600, ge=300, le=7 * 24 * 3600)

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEV_SECRET or len(secret) < 32 or secret_bits(secret) < MIN_SECRET_BITS:
                raise ValueError(
                    "GREENPARK_SECRET_KEY is missing or too weak for GREENPARK_ENV=production: use at least "
                    f"32 random characters carrying {MIN_SECRET_BITS} bits, e.g. the output of "
                    '`python -c "import secrets; print(secrets.token_urlsafe(32))"` (the value is not shown here)'
                )
            if not self.database_url:
                raise ValueError("GREENPARK_DATABASE_URL must be set when GREENPARK_ENV=production")
            if self.database_url.startswith("sqlite"):
                raise ValueError(
                    "GREENPARK_ENV=production needs PostgreSQL in GREENPARK_DATABASE_URL "
                    "(postgresql+psycopg://…); SQLite is the embedded default for trying greenpark out"
                )
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'greenpark.sqlite').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
