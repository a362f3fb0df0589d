"""The one Settings class: environment, TOML file and validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config.settings import Settings


def test_defaults_need_no_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.discord_token is None
    assert 0 < settings.thresholds.duplicated_quote < 1


def test_environment_overrides_a_threshold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODASSIST_THRESHOLDS__INFLAMMATORY", "0.75")
    assert Settings().thresholds.inflammatory == 0.75


@pytest.mark.parametrize("value", ["1.5", "-0.1", "high"])
def test_a_threshold_outside_0_1_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODASSIST_THRESHOLDS__OFF_TOPIC", value)
    with pytest.raises(ValidationError, match="off_topic"):
        Settings()


def test_a_toml_file_named_by_modassist_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "modassist.toml"
    config.write_text(
        '[thresholds]\nduplicated_quote = 0.5\n\n[catch_all]\nmode = "exempt"\n', encoding="utf-8"
    )
    monkeypatch.setenv("MODASSIST_CONFIG", str(config))
    settings = Settings()
    assert settings.thresholds.duplicated_quote == 0.5
    assert settings.catch_all.mode == "exempt"


def test_the_environment_beats_the_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "modassist.toml"
    config.write_text("[thresholds]\nduplicated_quote = 0.5\n", encoding="utf-8")
    monkeypatch.setenv("MODASSIST_CONFIG", str(config))
    monkeypatch.setenv("MODASSIST_THRESHOLDS__DUPLICATED_QUOTE", "0.9")
    assert Settings().thresholds.duplicated_quote == 0.9


def test_a_missing_toml_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODASSIST_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        Settings()


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MODASSIST_MOD_CHANNEL_ID=1234\n", encoding="utf-8")
    assert Settings().mod_channel_id == 1234


def test_the_settings_default_thresholds_are_the_detectors_defaults() -> None:
    # config imports nothing of ours, so it writes the defaults again: this keeps the two equal.
    from classifiers.suite import DEFAULT_THRESHOLDS

    assert Settings().thresholds.model_dump() == DEFAULT_THRESHOLDS
