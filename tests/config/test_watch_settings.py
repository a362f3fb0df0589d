"""The `watch` settings: read from the environment (JSON for lists), validated with clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from config.settings import Settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("MODASSIST_CONFIG", raising=False)


def test_nothing_is_watched_by_default() -> None:
    watch = Settings().watch
    assert watch.forum.threads == [] and watch.jsonl.paths == []
    assert not watch.discord.active
    assert watch.discord.exempt_bots and watch.discord.exempt_moderators


def test_threads_channels_and_files_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = [
        "https://forum.example/threads/ferry.1/",
        {"url": "https://forum.example/threads/b.2/#post-9", "interval_seconds": 30},
    ]
    monkeypatch.setenv("MODASSIST_WATCH__FORUM__THREADS", json.dumps(threads))
    monkeypatch.setenv("MODASSIST_WATCH__FORUM__HOST_REQUESTS", "6")
    monkeypatch.setenv("MODASSIST_WATCH__DISCORD__CATEGORY_IDS", "[123]")
    monkeypatch.setenv("MODASSIST_WATCH__DISCORD__EXEMPT_MODERATORS", "false")
    monkeypatch.setenv("MODASSIST_WATCH__JSONL__PATHS", '["export.jsonl", "-"]')
    watch = Settings().watch
    assert [(t.url, t.interval_seconds) for t in watch.forum.threads] == [
        ("https://forum.example/threads/ferry.1/", None),
        ("https://forum.example/threads/b.2/", 30.0),
    ]
    assert watch.forum.host_requests == 6
    assert watch.discord.active and watch.discord.category_ids == [123]
    assert not watch.discord.exempt_moderators
    assert watch.jsonl.paths == ["export.jsonl", "-"]


@pytest.mark.parametrize(
    ("forum", "message"),
    [
        ({"threads": ["ftp://forum.example/threads/a.1/"]}, "not an http"),
        ({"threads": ["https://a.test/threads/x.1/", "https://a.test/threads/x.1/"]}, "listed twice"),
        ({"threads": [{"url": "https://a.test/threads/x.1/", "interval_seconds": 1}]}, "below min_interval"),
        ({"backoff_min_seconds": 60, "backoff_max_seconds": 10}, "backoff_max_seconds"),
        ({"default_interval_seconds": 5, "min_interval_seconds": 10}, "default_interval_seconds"),
        ({"host_requests": 0}, "host_requests"),
    ],
)
def test_forum_settings_that_cannot_work_are_refused(forum: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(watch={"forum": forum})


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("discord", {"channel_ids": [0]}, "positive"),
        ("jsonl", {"paths": ["-", "-"]}, "stdin"),
        ("jsonl", {"paths": [" "]}, "empty"),
    ],
)
def test_other_watch_settings_are_validated(section: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(watch={section: values})
