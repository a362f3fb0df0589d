"""The settings' values without pydantic when nothing configures modassist (`config.defaults`), and when
they must come from `Settings` instead (`config.env.configured`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.defaults import default_values, settings_values
from config.env import configured
from config.settings import Settings, get_settings
from tests.paths import ROOT


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No MODASSIST_* variable, a working directory without `.env`, no cached settings."""
    for name in [n for n in os.environ if n.upper().startswith("MODASSIST_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_the_defaults_are_exactly_what_settings_give(unconfigured: Path) -> None:
    assert not configured()
    assert default_values() == Settings().model_dump(mode="json"), (
        "a default of Settings changed: rewrite config/defaults.py with `python -m config.defaults`"
    )


def test_the_fast_path_imports_no_pydantic_and_gives_the_settings_values(unconfigured: Path) -> None:
    probe = (
        "import json, sys\n"
        "from config.defaults import settings_values\n"
        "values = settings_values()\n"
        "print(json.dumps([values, sorted(m for m in sys.modules if m.startswith('pydantic'))]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("MODASSIST_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=unconfigured, env=env, capture_output=True, text=True, check=True
    )
    values, pydantic_modules = json.loads(result.stdout)
    assert pydantic_modules == []
    assert values == Settings().model_dump(mode="json")


def test_a_variable_is_read_by_settings(unconfigured: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODASSIST_THRESHOLDS__INFLAMMATORY", "0.75")
    assert settings_values()["thresholds"]["inflammatory"] == 0.75


def test_a_dotenv_file_is_read_by_settings(unconfigured: Path) -> None:
    (unconfigured / ".env").write_text("MODASSIST_REVIEW__MAX_POST_CHARS=5000\n", encoding="utf-8")
    assert settings_values()["review"]["max_post_chars"] == 5000


def test_a_toml_file_is_read_by_settings(unconfigured: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = unconfigured / "modassist.toml"
    config.write_text('[off_topic]\nstyle = "question"\n', encoding="utf-8")
    monkeypatch.setenv("MODASSIST_CONFIG", str(config))
    assert settings_values()["off_topic"]["style"] == "question"


@pytest.mark.parametrize(
    ("variables", "dotenv", "expected"),
    [
        ({}, False, False),
        ({"PATH": "/bin", "MODASSISTANT": "x"}, False, False),
        ({"MODASSIST_THRESHOLDS__OFF_TOPIC": "0.8"}, False, True),
        ({"modassist_thresholds__off_topic": "0.8"}, False, True),  # the settings read any case
        ({"MODASSIST_PURE_PYTHON": "1"}, False, True),  # not a setting, but on the safe side
        ({}, True, True),
    ],
)
def test_configured(tmp_path: Path, variables: dict[str, str], dotenv: bool, expected: bool) -> None:
    if dotenv:
        (tmp_path / ".env").write_text("", encoding="utf-8")
    assert configured(variables, tmp_path) is expected
