"""Typed settings read from the environment when the app is created (never at import time)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.catalog.files import DEFAULT_CATALOG_DIR


class SettingsError(Exception):
    """A setting has a value the server cannot run with; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", frozen=True)

    DATABASE_URL: str = Field("", description="SQLAlchemy URL; default: a SQLite file in the instance folder")
    ADMIN_API_KEY: str | None = Field(None, min_length=16, description="bootstrap admin key")
    REDIS_URL: str | None = Field(
        None, pattern=r"^rediss?://", description="shared rate-limit storage and the batch job queue"
    )
    RATE_LIMIT_PER_MINUTE: int = Field(600, ge=1, le=1_000_000, description="requests per minute per key")
    CATALOG_DIR: Path = Field(DEFAULT_CATALOG_DIR, description="folder of the shipped catalog")
    LOG_LEVEL: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    MAX_CONTENT_LENGTH: int = Field(16 * 1024 * 1024, ge=1024, description="largest request body in bytes")
    SYNC_SPREADSHEETS: str = Field("", pattern=r"^[\w\-, ]*$", description="spreadsheet keys to sync, comma-separated")
    SYNC_CREDENTIALS_FILE: Path | None = Field(None, description="service-account key for the sync; default: ADC")
    MAX_UPLOAD_BYTES: int = Field(2 * 1024**3, ge=1024, description="largest usage file PUT to /v1/files, in bytes")
    BATCH_QUEUE_NAMESPACE: str = Field("scope3ai", pattern=r"^[\w\-.:]{1,64}$", description="Redis key prefix of jobs")
    BATCH_HEARTBEAT_TIMEOUT_MS: int = Field(
        60_000, ge=500, description="silence after which a batch worker counts as dead and its blocks go back"
    )
    KEY_USAGE_FLUSH_SECONDS: float = Field(
        30.0, ge=0, le=3600, description="how often each worker adds its keys' request counts to the database"
    )
    BATCH_MAINTENANCE_CHANCE: int = Field(
        1000, ge=1, le=1_000_000, description="queue commands per million that check for dead workers"
    )


def load_settings(overrides: dict[str, object] | None = None) -> Settings:
    try:
        return Settings(**(overrides or {}))  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from exc
