"""`modassist classify` imports only what it needs (issue 17's start-up): no settings schema when nothing
configures it, no Discord, console or training library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.paths import ROOT

# Each costs a tenth of a second or more to import, and classify uses none of them.
NOT_NEEDED = ("pydantic", "pydantic_settings", "discord", "rich", "sklearn", "scipy", "aiosqlite", "aiohttp")

PROBE = """
import json, sys
from bot.cli import main
status = main(["classify", "--input", sys.argv[1], "--output", sys.argv[2]])
print(json.dumps([status, sorted({name.split(".")[0] for name in sys.modules})]))
"""


def _classify(tmp_path: Path, env: dict[str, str]) -> tuple[int, set[str], list[dict[str, Any]]]:
    """Run classify on two posts in a fresh process: status, top-level modules imported, lines written."""
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    posts = [
        {"id": "a", "thread_id": "t", "text": "The harbour ferry runs late again this winter."},
        {"id": "b", "thread_id": "t", "text": "You are a clueless idiot and everyone knows it."},
    ]
    source.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("MODASSIST_")}
    environment.update(env, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(source), str(target)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    status, modules = json.loads(result.stdout.splitlines()[-1])
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    return status, set(modules), lines


def _inflammatory_flags(lines: list[dict[str, Any]]) -> list[str]:
    return [line["id"] for line in lines if any(f["category"] == "inflammatory" for f in line["flags"])]


def test_classify_imports_no_pydantic_discord_rich_or_scikit_learn(tmp_path: Path) -> None:
    status, modules, lines = _classify(tmp_path, {})
    assert (status, [line["id"] for line in lines]) == (0, ["a", "b"])
    assert "a" not in _inflammatory_flags(lines)  # the default threshold
    assert modules.isdisjoint(NOT_NEEDED), sorted(modules.intersection(NOT_NEEDED))


def test_classify_follows_a_setting_given_in_the_environment(tmp_path: Path) -> None:
    status, modules, lines = _classify(tmp_path, {"MODASSIST_THRESHOLDS__INFLAMMATORY": "0.0"})
    assert (status, _inflammatory_flags(lines)) == (0, ["a", "b"])  # every score reaches 0
    assert modules.isdisjoint(set(NOT_NEEDED) - {"pydantic", "pydantic_settings"})
