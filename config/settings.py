"""The one Settings class: environment (MODASSIST_*), `.env`, and an optional TOML file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Thresholds(BaseModel):
    """Flag thresholds per category; a score at or above its threshold raises a flag."""

    off_topic: float = Field(0.7, ge=0.0, le=1.0)
    inflammatory: float = Field(0.6, ge=0.0, le=1.0)
    duplicated_quote: float = Field(0.6, ge=0.0, le=1.0)


class CatchAllPolicy(BaseModel):
    """How off-topic is judged in catch-all threads ("Miscellaneous News", "General discussion")."""

    title_patterns: list[str] = Field(
        default_factory=lambda: [r"\bmisc(ellaneous)?\b", r"\bgeneral\b", r"\boff[- ]?topic\b", r"\brandom\b"]
    )
    mode: str = Field("recent", pattern="^(exempt|recent|threshold)$")
    threshold: float = Field(0.85, gt=0.0, lt=1.0)
    thread_ids: list[str] = Field(default_factory=list)


class ModelPaths(BaseModel):
    """Model files; None means the model shipped with modassist."""

    inflammatory: Path | None = None
    off_topic: Path | None = None


class StoreSettings(BaseModel):
    """How the SQLite store behaves."""

    busy_timeout_seconds: float = Field(default=10.0, gt=0.0, le=600.0)
    review_cache_threads: int = Field(default=256, ge=1, le=100_000)


class AlertSettings(BaseModel):
    """How the dispatcher delivers the alert outbox: retries with exponential backoff, and burst folding.

    More than `burst_max_alerts` alerts from one thread within `burst_window_seconds` are folded into one
    digest alert.
    """

    burst_max_alerts: int = Field(default=5, ge=1)
    burst_window_seconds: float = Field(default=60.0, gt=0.0)
    retry_base_seconds: float = Field(default=2.0, gt=0.0)
    retry_max_seconds: float = Field(default=600.0, gt=0.0)
    max_attempts: int = Field(default=8, ge=1)
    poll_interval_seconds: float = Field(default=1.0, gt=0.0)
    lease_seconds: float = Field(default=120.0, gt=0.0)
    batch_size: int = Field(default=100, ge=1, le=10_000)

    @model_validator(mode="after")
    def _backoff_bounds(self) -> AlertSettings:
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must be at least retry_base_seconds")
        return self


class BotSettings(BaseModel):
    """How the Discord bot behaves; where it connects is `discord_*` on Settings.

    `admin_role_ids`: roles that may change thresholds, besides members with Administrator or Manage Server.
    `max_ratelimit_wait_seconds`: a rate limit longer than this is not waited out inside discord.py but hands
    the alert back to the outbox, due again when the limit ends (discord.py's floor is 30 s).
    """

    admin_role_ids: list[int] = Field(default_factory=list)
    sync_commands: bool = True
    list_page_size: int = Field(default=10, ge=1, le=25)
    excerpt_chars: int = Field(default=600, ge=80, le=3000)
    guild_ready_timeout_seconds: float = Field(default=2.0, gt=0.0, le=60.0)
    max_ratelimit_wait_seconds: float = Field(default=30.0, ge=30.0, le=3600.0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0.0, le=300.0)


class Settings(BaseSettings):
    """Everything configurable in modassist.

    Nested fields use `__` in the environment, e.g. MODASSIST_THRESHOLDS__INFLAMMATORY=0.75.
    """

    model_config = SettingsConfigDict(
        env_prefix="MODASSIST_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    thresholds: Thresholds = Field(default_factory=lambda: Thresholds())
    catch_all: CatchAllPolicy = Field(default_factory=lambda: CatchAllPolicy())
    models: ModelPaths = Field(default_factory=ModelPaths)
    database: Path = Path("modassist.db")
    store: StoreSettings = Field(default_factory=lambda: StoreSettings())
    alerts: AlertSettings = Field(default_factory=lambda: AlertSettings())
    data_dir: Path = Path("../shared/data")
    discord_token: SecretStr | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    guild_ids: list[int] = Field(default_factory=list)
    mod_channel_id: int | None = None
    moderator_role_ids: list[int] = Field(default_factory=list)
    bot: BotSettings = Field(default_factory=lambda: BotSettings())

    @field_validator("discord_api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _websocket_url(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("ws://", "wss://")):
            raise ValueError("discord_gateway_url must be a ws:// or wss:// URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order of precedence: arguments, environment, `.env`, the TOML file named by MODASSIST_CONFIG."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        toml_path = os.environ.get("MODASSIST_CONFIG")
        if toml_path:
            path = Path(toml_path)
            if not path.is_file():
                raise FileNotFoundError(f"MODASSIST_CONFIG names {path}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        sources.append(file_secret_settings)
        return tuple(sources)

    def threshold_map(self) -> dict[str, Any]:
        """Thresholds as a plain mapping for the detector suite."""
        return self.thresholds.model_dump()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return Settings()
