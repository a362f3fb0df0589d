"""`modassist classify` imports only what it needs (issue 17's start-up): no settings schema when nothing
configures it, no Discord, console or training library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT

# Each costs a tenth of a second or more to import, and classify uses none of them.
NOT_NEEDED = ("pydantic", "pydantic_settings", "discord", "rich", "sklearn", "scipy", "aiosqlite", "aiohttp")

PROBE = """
import json, sys
from bot.cli import main
status = main(["classify", "--input", sys.argv[1], "--output", sys.argv[2]])
print(json.dumps([status, sorted({name.split(".")[0] for name in sys.modules})]))
"""


def _classify(tmp_path: Path, env: dict[str, str]) -> tuple[int, set[str], list[str]]:
    """Run classify on two posts in a fresh process: status, top-level modules imported, ids written."""
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
    ids = [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()]
    return status, set(modules), ids


def test_classify_imports_no_pydantic_discord_rich_or_scikit_learn(tmp_path: Path) -> None:
    status, modules, ids = _classify(tmp_path, {})
    assert (status, ids) == (0, ["a", "b"])
    assert modules.isdisjoint(NOT_NEEDED), sorted(modules.intersection(NOT_NEEDED))


def test_classify_reads_the_settings_when_a_variable_is_set(tmp_path: Path) -> None:
    status, modules, ids = _classify(tmp_path, {"MODASSIST_THRESHOLDS__INFLAMMATORY": "0.7"})
    assert (status, ids) == (0, ["a", "b"])
    assert "pydantic_settings" in modules
    assert modules.isdisjoint(set(NOT_NEEDED) - {"pydantic", "pydantic_settings"})
