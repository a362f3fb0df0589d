"""Configuration mistakes through the real command line: one line each on stderr naming the setting, the value
and what is allowed, exit status 2, no traceback; misspelt setting names reported (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.cli_runner import modassist, run_cli


def settings_read(tmp_path: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    """Run a command that reads the settings (`flags`, in an empty directory: no database), as a user would;
    its exit status and stderr lines."""
    result = run_cli("flags", cwd=tmp_path, env=env)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stderr.splitlines()


@pytest.mark.parametrize("value", ["1.5", "high"])
def test_a_threshold_in_the_environment_that_is_no_number_from_0_to_1(tmp_path: Path, value: str) -> None:
    status, lines = settings_read(tmp_path, {"MODASSIST_THRESHOLDS__INFLAMMATORY": value})
    assert status == 2
    assert lines == [
        f"modassist: error: thresholds.inflammatory = {value} (from MODASSIST_THRESHOLDS__INFLAMMATORY):"
        " must be a number from 0 to 1"
    ]


def test_every_mistake_of_the_toml_file_is_a_line(tmp_path: Path) -> None:
    config = tmp_path / "modassist.toml"
    config.write_text(
        '[thresholds]\ninflammatory = 1.5\noff_topic = "high"\n\n[catch_all]\nmode = "often"\n',
        encoding="utf-8",
    )
    status, lines = settings_read(tmp_path, {"MODASSIST_CONFIG": str(config)})
    assert status == 2
    assert sorted(lines) == [
        f'modassist: error: catch_all.mode = "often" (from {config}):'
        " must be one of 'exempt', 'recent', 'threshold'",
        f"modassist: error: thresholds.inflammatory = 1.5 (from {config}): must be a number from 0 to 1",
        f'modassist: error: thresholds.off_topic = "high" (from {config}): must be a number from 0 to 1',
    ]


def test_a_malformed_toml_file_is_named_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "modassist.toml"
    config.write_text("[thresholds]\ninflammatory = 0.5\n[catch_all\nmode = 'exempt'\n", encoding="utf-8")
    status, lines = settings_read(tmp_path, {"MODASSIST_CONFIG": str(config)})
    assert status == 2
    assert lines == [
        f"modassist: error: {config}, line 3, column 11: not valid TOML:"
        " Expected ']' at the end of a table declaration"
    ]


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    status, lines = settings_read(tmp_path, {"MODASSIST_CONFIG": "nope.toml"})
    assert status == 2
    assert len(lines) == 1
    assert lines[0].startswith("modassist: error: MODASSIST_CONFIG=nope.toml: no such file")


@pytest.mark.parametrize("value", ["123", "123,456", "[123, 456"])
def test_a_list_setting_says_how_a_list_is_written(tmp_path: Path, value: str) -> None:
    status, lines = settings_read(tmp_path, {"MODASSIST_GUILD_IDS": value})
    assert status == 2
    assert lines == [
        f"modassist: error: guild_ids = {value} (from MODASSIST_GUILD_IDS):"
        " must be a list of whole numbers, written [123, 456] (or [] for none)"
    ]


def test_a_list_setting_written_as_json_is_read(tmp_path: Path) -> None:
    status, lines = settings_read(tmp_path, {"MODASSIST_GUILD_IDS": "[123, 456]"})
    assert (status, lines[0]) == (
        1,
        "modassist: error: no database at modassist.db: run"
        " `modassist db migrate --db modassist.db` or `scan --db`",
    )


def test_a_misspelt_variable_is_a_warning_with_the_right_name_and_the_command_runs(tmp_path: Path) -> None:
    status, lines = settings_read(tmp_path, {"MODASSIST_THRESHOLDS__INFLAMATORY": "0.9"})
    assert lines[0] == (
        "WARNING MODASSIST_THRESHOLDS__INFLAMATORY matches no setting and is ignored;"
        " did you mean MODASSIST_THRESHOLDS__INFLAMMATORY?"
    )
    assert status == 1 and lines[1].startswith("modassist: error: no database at modassist.db")


def test_a_misspelt_key_inside_a_section_given_as_json_is_a_warning(tmp_path: Path) -> None:
    section = '{"inflamatory": 0.9, "off_topic": 0.8}'
    status, lines = settings_read(tmp_path, {"MODASSIST_THRESHOLDS": section})
    assert lines[0] == (
        "WARNING MODASSIST_THRESHOLDS: no setting thresholds.inflamatory;"
        " did you mean thresholds.inflammatory?"
    )
    assert status == 1 and lines[1].startswith("modassist: error: no database at modassist.db")


def test_variables_read_outside_the_settings_are_no_warning(tmp_path: Path) -> None:
    status, lines = settings_read(tmp_path, {"MODASSIST_PURE_PYTHON": "1"})
    assert status == 1 and lines[0].startswith("modassist: error: no database at modassist.db")


def test_a_misspelt_variable_in_dotenv_is_a_warning_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MODASSIST_GUILDIDS=[1]\n", encoding="utf-8")
    _, lines = settings_read(tmp_path, {})
    assert lines[0] == (
        "WARNING .env: MODASSIST_GUILDIDS matches no setting and is ignored;"
        " did you mean MODASSIST_GUILD_IDS?"
    )


def test_misspelt_sections_and_keys_of_the_toml_file_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "modassist.toml"
    config.write_text(
        '[catchall]\nmode = "exempt"\n\n[thresholds]\ninflamatory = 0.9\ncolour = 1\n', encoding="utf-8"
    )
    status, lines = settings_read(tmp_path, {"MODASSIST_CONFIG": str(config)})
    assert status == 2
    assert lines == [
        f"modassist: error: {config}: no setting [catchall]; did you mean [catch_all]?",
        f"modassist: error: {config}: no setting thresholds.inflamatory;"
        " did you mean thresholds.inflammatory?",
        f"modassist: error: {config}: no setting thresholds.colour;"
        " the keys here are: off_topic, inflammatory, duplicated_quote",
    ]


def test_the_console_script_prints_no_traceback(tmp_path: Path) -> None:
    result = modassist("flags", cwd=tmp_path, env={"MODASSIST_THRESHOLDS__INFLAMMATORY": "1.5"})
    assert result.returncode == 2
    assert result.stderr == (
        "modassist: error: thresholds.inflammatory = 1.5 (from MODASSIST_THRESHOLDS__INFLAMMATORY):"
        " must be a number from 0 to 1\n"
    )


def test_unknown_keys_value_mistakes_and_warnings_come_together(tmp_path: Path) -> None:
    config = tmp_path / "modassist.toml"
    config.write_text("[catchall]\nmode = 'exempt'\n\n[thresholds]\ninflammatory = 2\n", encoding="utf-8")
    env = {"MODASSIST_CONFIG": str(config), "MODASSIST_GUILDIDS": "[1]"}
    status, lines = settings_read(tmp_path, env)
    assert status == 2
    assert lines == [
        "WARNING MODASSIST_GUILDIDS matches no setting and is ignored; did you mean MODASSIST_GUILD_IDS?",
        f"modassist: error: {config}: no setting [catchall]; did you mean [catch_all]?",
        f"modassist: error: thresholds.inflammatory = 2 (from {config}): must be a number from 0 to 1",
    ]


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2"])
def test_an_urgent_threshold_outside_0_to_1_is_a_line(tmp_path: Path, value: str) -> None:
    status, lines = settings_read(tmp_path, {"MODASSIST_ALERTS__URGENT_THRESHOLD": value})
    assert status == 2
    assert lines == [
        f"modassist: error: alerts.urgent_threshold = {value} (from MODASSIST_ALERTS__URGENT_THRESHOLD):"
        " must be a number above 0 and at most 1"
    ]


def test_an_urgent_threshold_not_above_a_flag_threshold_is_a_line_when_urgent_alerts_are_on(
    tmp_path: Path,
) -> None:
    env = {"MODASSIST_ALERTS__URGENT_THRESHOLD": "0.65", "MODASSIST_ALERTS__URGENT_ROLE_ID": "42"}
    status, lines = settings_read(tmp_path, env)
    assert status == 2
    assert lines == [
        "modassist: error: alerts.urgent_threshold = 0.65 (from MODASSIST_ALERTS__URGENT_THRESHOLD):"
        " must be above every flag threshold, with urgent alerts on (thresholds.off_topic = 0.7)"
    ]
    # Off (no role): the threshold alone is no mistake.
    status, lines = settings_read(tmp_path, {"MODASSIST_ALERTS__URGENT_THRESHOLD": "0.65"})
    assert "urgent" not in "\n".join(lines)
