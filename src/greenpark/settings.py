"""One Settings object, read from the environment (prefix GREENPARK_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    """greenpark settings. Unsafe defaults are refused unless ``env`` is ``development``."""

    model_config = SettingsConfigDict(env_prefix="GREENPARK_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"))
    database_url: str = ""
    secret_key: str = DEV_SECRET
    language: Literal["zh", "en"] = "zh"
    session_max_age_s: int = 8 * 3600

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.env == "production":
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "GREENPARK_SECRET_KEY must be set to a random string of at least 32 "
                    "characters when GREENPARK_ENV=production"
                )
            if not self.database_url:
                raise ValueError("GREENPARK_DATABASE_URL must be set when GREENPARK_ENV=production")
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
