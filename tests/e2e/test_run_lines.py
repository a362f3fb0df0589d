"""`modassist run` as a real process (the shipped models, the real command line): what it prints on standard
output when it starts (the `config check` summary), when the bot has connected, and when it stops; an empty
MODASSIST_DISCORD_TOKEN meaning no token; an unreachable Discord as a warning line per try (issue 18).

The summary test starts a new interpreter (the installed console script `modassist run`: the smoke test of the
command, and the only test of `modassist run` that starts an interpreter); the others
run the same entry point, `bot.cli.main(["run"])`, in a process forked from the tests' fork server
(`fork_command`), which spares them the second of imports a new interpreter spends."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.e2e.processes import ForkedWithOutput, discord_settings, fork_command, run_env
from tests.fakes.discord_server import TOKEN, FakeDiscord

_SCRIPT = Path(sys.executable).with_name("modassist")
# The installed console script, as a user runs it (the module where the script is not installed).
MODASSIST = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]


async def run_until(
    process: asyncio.subprocess.Process | ForkedWithOutput, marker: str, sig: signal.Signals
) -> tuple[list[str], str]:
    """Read standard output until a line holds `marker`, send `sig`; every line printed, once it has
    ended, and what it wrote on standard error."""
    assert process.stdout is not None
    seen = b""
    try:
        async with asyncio.timeout(60):
            while marker.encode() not in seen:
                line = await process.stdout.readline()
                assert line, f"the process ended early: {seen.decode()}"
                seen += line
            process.send_signal(sig)
            rest, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    return (seen + rest).decode().splitlines(), stderr.decode()


@pytest.mark.parametrize(
    ("where", "sig"),
    [("environment", signal.SIGTERM), (".env", signal.SIGINT)],
    ids=["environment", "dotenv"],
)
async def test_an_empty_token_runs_with_console_alerts(
    tmp_path: Path, where: str, sig: signal.Signals
) -> None:
    env = run_env(database=str(tmp_path / "modassist.db"))
    if where == ".env":
        (tmp_path / ".env").write_text("MODASSIST_DISCORD_TOKEN=\n", encoding="utf-8")
    else:
        env["MODASSIST_DISCORD_TOKEN"] = ""
    process = await fork_command("run", cwd=tmp_path, env=env)
    lines, _ = await run_until(process, "no Discord token", sig)
    assert "  discord_token = (not set)" in lines
    assert lines[-1] == f"modassist run: stopped ({sig.name})"


async def test_it_prints_the_summary_the_connection_and_the_stop(tmp_path: Path, fake: FakeDiscord) -> None:
    env = run_env(database=str(tmp_path / "modassist.db"), **discord_settings(fake))
    env["MODASSIST_THRESHOLDS__INFLAMATORY"] = "0.9"
    process = await asyncio.create_subprocess_exec(  # a new interpreter: the smoke test (module docstring)
        *MODASSIST,
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    lines, stderr = await run_until(process, "connected to Discord", signal.SIGTERM)
    text = "\n".join(lines)
    assert TOKEN not in text
    # The summary of `config check`, first: the settings (secrets masked), the watches, the warnings.
    assert lines[0].startswith("Settings (from the environment")
    assert "* discord_token = (set, hidden)" in lines
    assert "Watches:" in lines
    warnings = lines[lines.index("Warnings:") + 1 :]
    assert warnings[0].startswith("  MODASSIST_THRESHOLDS__INFLAMATORY matches no setting")
    connected = [line for line in lines if "connected to Discord" in line]
    assert connected == [
        f"modassist run: connected to Discord as modassist (id {fake.BOT.id}); servers: Fake Forum Mods"
        f" (id {fake.GUILD_ID})"
    ]
    assert lines[-1] == "modassist run: stopped (SIGTERM)"
    assert "voice will NOT be supported" not in stderr  # modassist never joins a voice channel


async def test_an_unreachable_discord_is_one_line_per_try_and_a_retry(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/api/v10"
    settings = discord_settings(fake) | {"discord_api_base": closed}
    process = await fork_command(
        "run", cwd=tmp_path, env=run_env(database=str(tmp_path / "m.db"), **settings)
    )
    assert process.stderr is not None
    tries: list[str] = []
    try:
        async with asyncio.timeout(60):
            while len(tries) < 2:  # it tried, waited, and tried again
                line = (await process.stderr.readline()).decode()
                assert line, "the process ended early"
                if "cannot reach Discord" in line:
                    tries.append(line)
            process.send_signal(signal.SIGTERM)
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert (
        tries[0].startswith(f"WARNING cannot reach Discord at {closed} (")
        and "trying again in 1 s" in tries[0]
    )
    assert "trying again in 2 s" in tries[1]
    assert "Traceback" not in err.decode() and "modassist run: stopped (SIGTERM)" in out.decode()
