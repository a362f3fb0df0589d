"""The one Settings class: environment (MODASSIST_*), `.env`, and an optional TOML file."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from config.alerts import AlertSettings as AlertSettings  # a section of Settings
from config.env import CONFIG_VARIABLE, ENV_FILE, ENV_PREFIX
from config.errors import ConfigurationError
from config.files import read_dotenv, read_toml, toml_origin
from config.names import unknown_json_keys, unknown_keys, unknown_variables
from config.problems import env_origin, parse_problem, urgent_problems, validation_problems

logger = logging.getLogger(__name__)
# MODASSIST_* variables read elsewhere, so never "unknown": the TOML file's name; the shingle hasher's switch
# to its pure-Python fallback (classifiers/shingles.py).
OTHER_VARIABLES = ("CONFIG", "PURE_PYTHON")


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


class OffTopicSettings(BaseModel):
    """How the off-topic detector reads threads."""

    # "auto" (the default): each thread is read as "everyday" while its posts are short (local forums,
    # Discord channels: buses, football, hobbies) and as "discussion" when they are long (debate forums).
    # Set "discussion" or "everyday" to use one for every thread, or "question" for Q&A boards, where a
    # reply should answer the opening question (not detected: set it for the forum you watch).
    style: Literal["auto", "discussion", "question", "everyday"] = "auto"


class ModelPaths(BaseModel):
    """Model files; None means the model shipped with modassist."""

    inflammatory: Path | None = None
    off_topic: Path | None = None


class StoreSettings(BaseModel):
    """How the SQLite store behaves."""

    busy_timeout_seconds: float = Field(default=10.0, gt=0.0, le=600.0)
    review_cache_threads: int = Field(default=256, ge=1, le=100_000)


class ReviewSettings(BaseModel):
    """How much of a post the detectors read: a longer post is stored whole but judged on its first
    `max_post_chars` characters (text, then quotes), and its flags say so. It bounds memory per post."""

    max_post_chars: int = Field(default=100_000, ge=1_000, le=16 * 1024 * 1024)


class BotSettings(BaseModel):
    """How the Discord bot behaves; where it connects is `discord_*` on Settings.

    `admin_role_ids`: roles that may change thresholds, besides members with Administrator or Manage Server.
    `max_ratelimit_wait_seconds`: a rate limit longer than this is not waited out inside discord.py but hands
    the alert back to the outbox, due again when the limit ends (discord.py's floor is 30 s).
    `fetch_private_addresses`: let `/modq scan` and forum watches fetch pages from loopback, private-network
    and link-local addresses (a forum on your own network). Off by default, so that nobody can make the bot
    read internal services through a URL.
    `xenforo_api_keys`: a XenForo forum's base URL (where `/api/` is) -> its REST API key; alerts of that
    forum's posts then offer Soft-delete and Lock. `xenforo_api_users`: base URL -> the user id a super-user
    key acts as (`XF-Api-User`).
    """

    admin_role_ids: list[int] = Field(default_factory=list)
    sync_commands: bool = True
    list_page_size: int = Field(default=10, ge=1, le=25)
    excerpt_chars: int = Field(default=600, ge=80, le=3000)
    guild_ready_timeout_seconds: float = Field(default=2.0, gt=0.0, le=60.0)
    max_ratelimit_wait_seconds: float = Field(default=30.0, ge=30.0, le=3600.0)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0.0, le=300.0)
    fetch_private_addresses: bool = False
    xenforo_api_keys: dict[str, SecretStr] = Field(default_factory=dict)
    xenforo_api_users: dict[str, int] = Field(default_factory=dict)

    @field_validator("xenforo_api_keys", "xenforo_api_users")
    @classmethod
    def _base_urls(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {_http_url(url).rstrip("/"): v for url, v in value.items()}


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host (the fragment dropped: it never reaches the server)."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL with a host name")
    return urlunsplit(parts._replace(fragment=""))


class WatchedThread(BaseModel):
    """A forum thread to poll; `interval_seconds` None means `forum.default_interval_seconds`."""

    url: str
    interval_seconds: float | None = Field(default=None, gt=0.0, le=86_400.0)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"url": value} if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class ForumWatchSettings(BaseModel):
    """Polling XenForo threads: intervals, the request budget per host, back-off bounds, limits.

    A host gets at most `host_requests` requests in any `host_window_seconds`, over all its threads. After an
    error, a 429 or a 503 a thread waits `backoff_min_seconds`, doubling per further error up to
    `backoff_max_seconds`, with jitter; a Retry-After is honoured up to `retry_after_max_seconds`.
    """

    threads: list[WatchedThread] = Field(default_factory=list)
    default_interval_seconds: float = Field(default=60.0, gt=0.0, le=86_400.0)
    min_interval_seconds: float = Field(default=10.0, gt=0.0, le=86_400.0)
    host_requests: int = Field(default=12, ge=1, le=10_000)
    host_window_seconds: float = Field(default=60.0, gt=0.0, le=86_400.0)
    backoff_min_seconds: float = Field(default=5.0, gt=0.0)
    backoff_max_seconds: float = Field(default=900.0, gt=0.0)
    retry_after_max_seconds: float = Field(default=3600.0, gt=0.0)
    timeout_seconds: float = Field(default=20.0, gt=0.0, le=600.0)
    max_page_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_pages_per_poll: int = Field(default=5, ge=1, le=100)
    refresh_seconds: float = Field(default=30.0, gt=0.0)

    @model_validator(mode="after")
    def _consistent(self) -> ForumWatchSettings:
        if self.backoff_max_seconds < self.backoff_min_seconds:
            raise ValueError("backoff_max_seconds must be at least backoff_min_seconds")
        if self.default_interval_seconds < self.min_interval_seconds:
            raise ValueError("default_interval_seconds must be at least min_interval_seconds")
        urls = [t.url for t in self.threads]
        if len(set(urls)) != len(urls):
            raise ValueError("a thread URL is listed twice")
        for thread in self.threads:
            if thread.interval_seconds is not None and thread.interval_seconds < self.min_interval_seconds:
                raise ValueError(f"{thread.url}: interval_seconds is below min_interval_seconds")
        return self


class DiscordWatchSettings(BaseModel):
    """Reading Discord channels: text channels, threads and forum channels by id, or all in a category.

    Needs the privileged message-content intent (enable it in the developer portal too); it is requested
    when any channel or category is configured, or with `enabled` (for `/modq watch add` of channel links).
    """

    enabled: bool = False
    channel_ids: list[int] = Field(default_factory=list)
    category_ids: list[int] = Field(default_factory=list)
    exempt_bots: bool = True
    exempt_moderators: bool = True

    @field_validator("channel_ids", "category_ids")
    @classmethod
    def _snowflakes(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("Discord ids are positive integers")
        return value

    @property
    def active(self) -> bool:
        """Whether the bot reads messages at all (and so asks for the message-content intent)."""
        return self.enabled or bool(self.channel_ids or self.category_ids)


class JsonlWatchSettings(BaseModel):
    """Following JSON Lines files as they grow ("-" is stdin), e.g. a forum exporter's output."""

    paths: list[str] = Field(default_factory=list)
    poll_seconds: float = Field(default=1.0, gt=0.0, le=3600.0)

    @field_validator("paths")
    @classmethod
    def _not_blank(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value):
            raise ValueError("a JSON Lines path is empty")
        if value.count("-") > 1:
            raise ValueError("stdin ('-') can be followed once")
        return value


class WatchSettings(BaseModel):
    """Live sources: forum threads, Discord channels, JSON Lines files.

    Every source follows one rule: its position moves past a post only once the post is stored. A review
    that fails is tried `review_attempts` times in all, waiting `retry_base_seconds`, then twice as long each
    time up to `retry_max_seconds`; a post that still fails is stored as unreviewable with the error and
    reported to the moderators. While even that cannot be stored (the database locked or the disk full),
    the source waits and tries again, at most `retry_max_seconds` apart, and never moves past the post.
    """

    forum: ForumWatchSettings = Field(default_factory=lambda: ForumWatchSettings())
    discord: DiscordWatchSettings = Field(default_factory=lambda: DiscordWatchSettings())
    jsonl: JsonlWatchSettings = Field(default_factory=lambda: JsonlWatchSettings())
    review_attempts: int = Field(default=4, ge=1, le=100)
    retry_base_seconds: float = Field(default=1.0, gt=0.0, le=3600.0)
    retry_max_seconds: float = Field(default=60.0, gt=0.0, le=86_400.0)

    @model_validator(mode="after")
    def _retry_bounds(self) -> WatchSettings:
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must be at least retry_base_seconds")
        return self


class Settings(BaseSettings):
    """Everything configurable in modassist.

    Nested fields use `__` in the environment, e.g. MODASSIST_THRESHOLDS__INFLAMMATORY=0.75.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    thresholds: Thresholds = Field(default_factory=lambda: Thresholds())
    catch_all: CatchAllPolicy = Field(default_factory=lambda: CatchAllPolicy())
    off_topic: OffTopicSettings = Field(default_factory=lambda: OffTopicSettings())
    models: ModelPaths = Field(default_factory=ModelPaths)
    database: Path = Path("modassist.db")
    store: StoreSettings = Field(default_factory=lambda: StoreSettings())
    review: ReviewSettings = Field(default_factory=lambda: ReviewSettings())
    alerts: AlertSettings = Field(default_factory=lambda: AlertSettings())
    data_dir: Path = Path("../shared/data")
    discord_token: SecretStr | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str | None = None
    guild_ids: list[int] = Field(default_factory=list)
    mod_channel_id: int | None = None
    moderator_role_ids: list[int] = Field(default_factory=list)
    bot: BotSettings = Field(default_factory=lambda: BotSettings())
    watch: WatchSettings = Field(default_factory=lambda: WatchSettings())

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_is_no_token(cls, value: Any) -> Any:
        """An empty `MODASSIST_DISCORD_TOKEN=` (or only spaces) means no token: console alerts."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

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
        toml_path = os.environ.get(CONFIG_VARIABLE)
        if toml_path:
            path = Path(toml_path)
            if not path.is_file():
                raise FileNotFoundError(f"{CONFIG_VARIABLE} names {path}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        sources.append(file_secret_settings)
        return tuple(sources)


@dataclass(frozen=True)
class LoadedSettings:
    """Settings as read, with a warning line per variable that names no setting; `toml_file` is the TOML
    file read (None without MODASSIST_CONFIG)."""

    settings: Settings
    warnings: list[str]
    toml_file: Path | None


def load_settings() -> LoadedSettings:
    """Read the settings, or raise ConfigurationError with one line per mistake (a value a setting does not
    accept, a missing or malformed TOML file, a TOML key that names no setting) and the warnings."""
    dotenv = read_dotenv(Settings.model_config.get("env_file"))
    warnings = unknown_variables(Settings, ENV_PREFIX, os.environ, extra=OTHER_VARIABLES)
    warnings += [f".env: {line}" for line in unknown_variables(Settings, ENV_PREFIX, dotenv)]
    warnings += unknown_json_keys(Settings, ENV_PREFIX, os.environ)
    warnings += [f".env: {line}" for line in unknown_json_keys(Settings, ENV_PREFIX, dotenv)]
    try:
        toml_file, table = read_toml(CONFIG_VARIABLE)
    except ConfigurationError as exc:
        raise ConfigurationError(exc.problems, warnings) from None
    problems = [f"{toml_file}: {line}" for line in unknown_keys(Settings, table or {})]
    variables: list[tuple[str, Mapping[str, str | None]]] = [("", os.environ), (".env: ", dotenv)]
    found = env_origin(ENV_PREFIX, variables)

    def origin(path: tuple[str, ...]) -> tuple[str, str] | None:
        return found(path) or toml_origin(toml_file, table, path)

    settings: Settings | None = None
    try:
        settings = Settings()
    except ValidationError as exc:
        problems += validation_problems(Settings, exc, origin)
    except SettingsError as exc:  # a variable that is not JSON where JSON is needed (lists, sections)
        problems.append(parse_problem(Settings, str(exc), origin))
    if settings is not None and settings.alerts.urgent_role_id is not None:
        problems += urgent_problems(
            settings.alerts.urgent_threshold, settings.thresholds.model_dump(), origin
        )
    if problems or settings is None:
        raise ConfigurationError(problems, warnings)
    return LoadedSettings(settings, warnings, toml_file)


def log_warnings(warnings: list[str]) -> None:
    """Each warning as a log line (WARNING, on stderr under `modassist`)."""
    for line in warnings:
        logger.warning("%s", line)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use; each warning is logged once (a line on stderr), also
    when the settings cannot be read."""
    try:
        loaded = load_settings()
    except ConfigurationError as exc:
        log_warnings(exc.warnings)
        raise
    log_warnings(loaded.warnings)
    return loaded.settings
