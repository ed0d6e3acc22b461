"""The one settings object: every tunable of steward, read from STEWARD_* environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from steward import PROJECT_ROOT

VAR_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """steward's settings. Each field is set by the environment variable STEWARD_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'steward.db'}",
        description="SQLAlchemy URL of the CRM/community database (SQLite file by default).",
    )
    output_dir: Path = Field(default=VAR_DIR / "out", description="Where reports, plans and packages go.")
    timezone: str = Field(default="Europe/London", description="The office's time zone (York).")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for keyed hashes and pseudonyms. Unset: a key is generated once into "
        "secret_key_file (owner-only) and reused.",
    )
    secret_key_file: Path = Field(default=VAR_DIR / "secret.key")
    chunk_size: int = Field(default=10_000, ge=100, description="Rows per chunk for streamed work.")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def secret_key_bytes(self) -> bytes:
        """The key for keyed hashes; generated once, owner-only, when none is configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.secret_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
