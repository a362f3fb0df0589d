"""`modassist config check`: the settings in force (secrets masked), the watches and every warning, at 80
columns; exit 0 when the settings can be read, 2 on a mistake (issue 18)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.records import FORUM_THREAD
from bot.store import Store
from tests.bot.cli_runner import run_cli

TOKEN = "MTIz.secret-token-value"
THREAD = "https://forum.test/threads/harbour-news.7/"


def test_it_prints_the_settings_the_watches_and_the_warnings(tmp_path: Path) -> None:
    config = tmp_path / "modassist.toml"
    config.write_text(
        f'[thresholds]\ninflammatory = 0.75\n\n[watch.forum]\nthreads = ["{THREAD}"]\n\n'
        "[watch.discord]\nchannel_ids = [111]\n",
        encoding="utf-8",
    )
    env = {
        "MODASSIST_CONFIG": str(config),
        "MODASSIST_DISCORD_TOKEN": TOKEN,
        "MODASSIST_MOD_CHANNEL_ID": "222",
        "MODASSIST_THRESHOLDS__INFLAMATORY": "0.9",
    }
    result = run_cli("config", "check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "* thresholds.inflammatory = 0.75" in lines
    assert "  thresholds.off_topic = 0.7" in lines
    assert "* discord_token = (set, hidden)" in lines
    assert TOKEN not in result.stdout and "secret" not in result.stdout
    watches = lines[lines.index("Watches:") + 1 : lines.index("Warnings:")]
    assert f"  forum thread {THREAD} (every 60 s)" in watches
    assert "  Discord channel 111" in watches
    warnings = lines[lines.index("Warnings:") + 1 :]
    assert warnings == [
        "  MODASSIST_THRESHOLDS__INFLAMATORY matches no setting and is ignored; did you",
        "      mean MODASSIST_THRESHOLDS__INFLAMMATORY?",
    ]
    # At 80 columns, but for a lone word (here the long temporary path): paths and links are never cut.
    assert all(len(line) <= 80 or len(line.split()) == 1 for line in lines), lines


def test_a_clean_configuration_has_no_warnings_and_no_watches(tmp_path: Path) -> None:
    result = run_cli("config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Warnings: none" in lines
    assert "  thresholds.inflammatory = 0.6" in lines
    assert "  discord_token = (not set)" in lines
    assert lines[lines.index("Watches:") + 1].startswith("  (no database at modassist.db yet")


def test_it_lists_the_watches_moderators_added(tmp_path: Path) -> None:
    assert run_cli("db", "migrate", cwd=tmp_path).returncode == 0

    async def add() -> None:
        store = await Store.open(tmp_path / "modassist.db")
        try:
            await store.add_watch(FORUM_THREAD, THREAD, actor_id=8)
        finally:
            await store.close()

    asyncio.run(add())
    result = run_cli("config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    watches = lines[lines.index("Watches:") + 1 : lines.index("Warnings: none")]
    assert " ".join(" ".join(watches).split()) == (
        f"forum thread {THREAD} (added with /modq watch add, in modassist.db)"
    )


def test_a_mistake_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    result = run_cli("config", "check", cwd=tmp_path, env={"MODASSIST_GUILD_IDS": "123"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "modassist: error: guild_ids = 123 (from MODASSIST_GUILD_IDS): must be a list of whole numbers,"
        " written [123, 456] (or [] for none)\n"
    )


def test_an_empty_token_is_no_token(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MODASSIST_DISCORD_TOKEN=\n", encoding="utf-8")
    from_dotenv = run_cli("config", "check", cwd=tmp_path)
    from_environment = run_cli("config", "check", cwd=tmp_path, env={"MODASSIST_DISCORD_TOKEN": ""})
    for result in (from_dotenv, from_environment):
        assert result.returncode == 0, result.stderr
        assert "  discord_token = (not set)" in result.stdout.splitlines()


def test_it_shows_urgent_alerts_off_by_default_and_on_when_a_role_is_set(tmp_path: Path) -> None:
    lines = run_cli("config", "check", cwd=tmp_path).stdout.splitlines()
    assert "  alerts.urgent_role_id = (not set)" in lines
    assert "  alerts.urgent_threshold = 0.9" in lines
    env = {"MODASSIST_ALERTS__URGENT_ROLE_ID": "42", "MODASSIST_ALERTS__URGENT_THRESHOLD": "0.95"}
    result = run_cli("config", "check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "* alerts.urgent_role_id = 42" in lines and "* alerts.urgent_threshold = 0.95" in lines


def test_xenforo_api_keys_are_masked_and_their_forums_named(tmp_path: Path) -> None:
    config = tmp_path / "modassist.toml"
    config.write_text(
        '[bot.xenforo_api_keys]\n"https://forum.test/community/" = "xf-secret-key"\n\n'
        '[bot.xenforo_api_users]\n"https://forum.test/community" = 7\n',
        encoding="utf-8",
    )
    env = {
        "MODASSIST_CONFIG": str(config),
        "MODASSIST_DISCORD_TOKEN": TOKEN,
        "MODASSIST_MOD_CHANNEL_ID": "222",
    }
    result = run_cli("config", "check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "* bot.xenforo_api_keys.https://forum.test/community = (set, hidden)" in lines
    assert "* bot.xenforo_api_users.https://forum.test/community = 7" in lines
    assert "xf-secret-key" not in result.stdout and "Warnings: none" in lines
