"""What a new user met following the README's configuration and Discord sections (issue 18's walk-through):
a setting that is empty by default still shows in `config check`, and a Discord token without the mod
channel is said by `config check` and stops `run` at once, in one line, before anything is loaded or
created."""

from __future__ import annotations

from pathlib import Path

from tests.bot.cli_runner import run_cli

NO_CHANNEL = (
    "mod_channel_id is not set: with a Discord token, `modassist run` needs the id of the moderators' channel"
    " (MODASSIST_MOD_CHANNEL_ID=123...; unset the token for console alerts)"
)


def test_config_check_shows_the_settings_empty_by_default(tmp_path: Path) -> None:
    lines = run_cli("config", "check", cwd=tmp_path).stdout.splitlines()
    assert "  bot.xenforo_api_keys = {}" in lines
    assert "  bot.xenforo_api_users = {}" in lines


def test_config_check_warns_of_a_token_without_a_mod_channel(tmp_path: Path) -> None:
    result = run_cli("config", "check", cwd=tmp_path, env={"MODASSIST_DISCORD_TOKEN": "MTIz.x"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    warnings = " ".join(line.strip() for line in lines[lines.index("Warnings:") + 1 :])
    assert warnings == NO_CHANNEL


def test_run_with_a_token_and_no_mod_channel_stops_in_one_line_before_creating_the_database(
    tmp_path: Path,
) -> None:
    result = run_cli("run", cwd=tmp_path, env={"MODASSIST_DISCORD_TOKEN": "MTIz.x"})
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"modassist: error: {NO_CHANNEL}"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "modassist.db").exists()


def test_without_a_token_discord_watches_and_discord_only_settings_are_warned_of(tmp_path: Path) -> None:
    env = {
        "MODASSIST_WATCH__DISCORD__CHANNEL_IDS": "[111]",
        "MODASSIST_MOD_CHANNEL_ID": "5",
        "MODASSIST_ALERTS__URGENT_ROLE_ID": "7",
    }
    result = run_cli("config", "check", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    warnings = " ".join(" ".join(lines[lines.index("Warnings:") + 1 :]).split())
    assert warnings == (
        "watch.discord is configured but there is no Discord token (discord_token): no Discord channel is"
        " watched until MODASSIST_DISCORD_TOKEN is set mod_channel_id, alerts.urgent_role_id are set but"
        " unused without a Discord token (discord_token): alerts go to the console"
    )
