"""The settings' defaults as JSON values, so that a command needing only settings' values (`modassist
classify`) starts without importing pydantic and building the settings schema (about 0.3 s) when nothing
configures modassist: no `MODASSIST_*` variable, no `.env` file (`config.env.configured`).

They are written from the one `Settings` class by `python -m config.defaults` (run it after changing a
default; tests/config/test_defaults.py fails until then), never by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from config.env import configured


def settings_values() -> dict[str, Any]:
    """The settings as JSON values, `Settings.model_dump(mode="json")`: the defaults below when nothing
    configures modassist, else those of `get_settings()` (which logs its warnings and raises
    ConfigurationError for a setting it cannot use)."""
    if not configured():
        return default_values()
    from config.settings import get_settings

    return get_settings().model_dump(mode="json")


def default_values() -> dict[str, Any]:
    """The defaults of every setting, as `Settings()` gives them when nothing configures modassist."""
    values: dict[str, Any] = json.loads(DEFAULTS)
    return values


_MARKER = "# Written by `python -m config.defaults` from `Settings()`: do not edit.\n"


def main() -> int:
    """Rewrite the defaults below from `Settings()`; run with nothing configuring modassist."""
    if configured():
        print(
            "config.defaults: run it with no MODASSIST_* variable set, outside a folder with .env",
            file=sys.stderr,
        )
        return 2
    from config.settings import Settings

    text = json.dumps(Settings().model_dump(mode="json"), indent=4, sort_keys=True, ensure_ascii=False)
    path = Path(__file__)
    source = path.read_text(encoding="utf-8")
    head = source[: source.index(_MARKER) + len(_MARKER)]
    path.write_text(f'{head}DEFAULTS = r"""\n{text}\n"""\n', encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Written by `python -m config.defaults` from `Settings()`: do not edit.
DEFAULTS = r"""
{
    "alerts": {
        "batch_size": 100,
        "burst_max_alerts": 5,
        "burst_window_seconds": 60.0,
        "lease_seconds": 120.0,
        "max_attempts": 8,
        "poll_interval_seconds": 1.0,
        "retry_base_seconds": 2.0,
        "retry_max_seconds": 600.0,
        "urgent_role_id": null,
        "urgent_threshold": 0.9
    },
    "bot": {
        "admin_role_ids": [],
        "excerpt_chars": 600,
        "fetch_private_addresses": false,
        "guild_ready_timeout_seconds": 2.0,
        "list_page_size": 10,
        "max_ratelimit_wait_seconds": 30.0,
        "shutdown_grace_seconds": 10.0,
        "sync_commands": true,
        "xenforo_api_keys": {},
        "xenforo_api_users": {}
    },
    "catch_all": {
        "mode": "recent",
        "thread_ids": [],
        "threshold": 0.85,
        "title_patterns": [
            "\\bmisc(ellaneous)?\\b",
            "\\bgeneral\\b",
            "\\boff[- ]?topic\\b",
            "\\brandom\\b"
        ]
    },
    "data_dir": "../shared/data",
    "database": "modassist.db",
    "discord_api_base": "https://discord.com/api/v10",
    "discord_gateway_url": null,
    "discord_token": null,
    "guild_ids": [],
    "mod_channel_id": null,
    "models": {
        "inflammatory": null,
        "off_topic": null
    },
    "moderator_role_ids": [],
    "off_topic": {
        "style": "auto"
    },
    "review": {
        "max_post_chars": 100000
    },
    "store": {
        "busy_timeout_seconds": 10.0,
        "review_cache_threads": 256
    },
    "thresholds": {
        "duplicated_quote": 0.6,
        "inflammatory": 0.6,
        "off_topic": 0.7
    },
    "watch": {
        "discord": {
            "category_ids": [],
            "channel_ids": [],
            "enabled": false,
            "exempt_bots": true,
            "exempt_moderators": true
        },
        "forum": {
            "backoff_max_seconds": 900.0,
            "backoff_min_seconds": 5.0,
            "default_interval_seconds": 60.0,
            "host_requests": 12,
            "host_window_seconds": 60.0,
            "max_page_bytes": 8388608,
            "max_pages_per_poll": 5,
            "min_interval_seconds": 10.0,
            "refresh_seconds": 30.0,
            "retry_after_max_seconds": 3600.0,
            "threads": [],
            "timeout_seconds": 20.0
        },
        "jsonl": {
            "paths": [],
            "poll_seconds": 1.0
        },
        "retry_base_seconds": 1.0,
        "retry_max_seconds": 60.0,
        "review_attempts": 4
    }
}
"""
