"""The JSON Lines watcher: a growing file is followed line by line (half-written lines wait), bad lines are
skipped, a restart resumes at the stored offset, a replaced or truncated file is read again without
alerting twice; stdin is read until it ends."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from bot.watchers import JSONL_FILE, JsonlWatcher
from tests.bot.watch_doubles import RecordingService, alerted_urls, eventually, running


def line(post_id: str, text: str, **extra: Any) -> str:
    return json.dumps({"id": post_id, "text": text, "thread_id": "ferry", **extra}) + "\n"


def append(path: Path, *lines: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(lines))


async def test_a_growing_file_is_followed_and_each_post_reviewed_once(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    service = RecordingService(store)
    watcher = JsonlWatcher(store, service, str(export), poll_seconds=0.02)
    async with running(watcher):
        await asyncio.sleep(0.05)  # the file does not exist yet: waited for
        append(export, line("p1", "The ferry stops.", thread_title="Harbour ferry"))
        await eventually(lambda: service.new == ["p1"])
        half = line("p2", "Only an idiot takes it.", url="https://forum.test/threads/ferry.1/post-2")
        append(export, half[:20])  # an exporter half-way through writing a line
        await asyncio.sleep(0.1)  # a few polls: were the half line read, p2 would be lost as malformed
        append(export, half[20:], "{not json}\n", line("p3", "Edited later."))
        await eventually(lambda: service.new == ["p1", "p2", "p3"])
        append(export, line("p3", "Edited: buy crypto."))  # the same post again, changed: an edit
        await eventually(lambda: service.edited == ["p3"])
    assert await alerted_urls(store) == ["https://forum.test/threads/ferry.1/post-2", None]
    [watch] = await store.watches()
    assert (watch.kind, watch.target) == (JSONL_FILE, str(export))
    assert f'"offset": {export.stat().st_size}' in ((await store.watch_state(watch.id)).cursor or "")


async def test_a_restart_resumes_at_the_stored_offset(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    append(export, line("p1", "You idiot."), line("p2", "Calm down."))
    service = RecordingService(store)
    async with running(JsonlWatcher(store, service, str(export), poll_seconds=0.02)):
        await eventually(lambda: len(service.new) == 2)
    append(export, line("p3", "Another idiot."))
    second = RecordingService(store)
    watcher = JsonlWatcher(store, second, str(export), poll_seconds=0.02)
    async with running(watcher):
        await eventually(lambda: second.new == ["p3"])
    assert watcher.lines_read == 1  # only the new line was read
    assert len(await alerted_urls(store)) == 2


@pytest.mark.parametrize("how", ["replaced", "truncated"])
async def test_a_replaced_or_truncated_file_is_read_again_without_double_alerts(
    store: Store, tmp_path: Path, how: str
) -> None:
    export = tmp_path / "export.jsonl"
    append(export, line("p1", "You idiot."), line("p2", "Calm down."))
    service = RecordingService(store)
    watcher = JsonlWatcher(store, service, str(export), poll_seconds=0.02)
    async with running(watcher):
        await eventually(lambda: len(service.new) == 2)
        if how == "replaced":
            fresh = tmp_path / "fresh.jsonl"
            fresh.write_text(line("p1", "You idiot.") + line("p4", "Idiot again.") * 3, encoding="utf-8")
            fresh.replace(export)
        else:
            export.write_text(line("p4", "Idiot again."), encoding="utf-8")
        await eventually(lambda: service.new == ["p1", "p2", "p4"])
    assert service.twice() == [] and service.edited == []
    assert len(await alerted_urls(store)) == 2


async def test_stdin_is_read_until_it_ends(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        service = RecordingService(store)
        watcher = JsonlWatcher(store, service, "-", poll_seconds=0.02)
        async with running(watcher) as stop:
            os.write(write_end, line("p1", "You idiot.").encode())
            await eventually(lambda: service.new == ["p1"])
            os.write(write_end, (line("p2", "Calm.") + "garbage\n").encode())
            os.close(write_end)
            await eventually(lambda: service.new == ["p1", "p2"])
            assert not stop.is_set()
        assert watcher.lines_read == 3
    assert await store.watches() == []  # stdin keeps no offset


async def test_a_restart_keeps_the_thread_title_only_the_first_line_gave(
    store: Store, tmp_path: Path
) -> None:
    export = tmp_path / "export.jsonl"
    append(export, line("p1", "The ferry stops at the new pier.", thread_title="Harbour ferry"))
    first = RecordingService(store)
    async with running(JsonlWatcher(store, first, str(export), poll_seconds=0.02)):
        await eventually(lambda: first.new == ["p1"])
    append(export, line("p2", "Only an idiot takes it."))  # later lines leave the title out
    titles: list[str] = []

    class Titles(RecordingService):
        async def review(self, thread: Any, **kwargs: Any) -> Any:
            result = await super().review(thread, **kwargs)
            titles.append(result.thread.title)
            return result

    async with running(JsonlWatcher(store, Titles(store), str(export), poll_seconds=0.02)):
        await eventually(lambda: titles != [])
    assert titles == ["Harbour ferry"]  # not "" after the restart
