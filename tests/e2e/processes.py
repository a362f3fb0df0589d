"""Starting `modassist run` (or a test worker of it) as a real process, forked from the tests' fork server
(tests/forks.py): its environment, the fork, its output as streams."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
from pathlib import Path
from typing import Any

from tests.e2e import run_worker
from tests.fakes.discord_server import TOKEN, FakeDiscord
from tests.forks import FORKS, ForkedProcess

ROOT = Path(__file__).resolve().parents[2]


def run_env(**settings: str) -> dict[str, str]:
    """This environment without the developer's MODASSIST_* settings, the repository on PYTHONPATH, and
    `settings` as MODASSIST_<NAME> (`alerts__poll_interval_seconds="0.1"`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODASSIST_")}
    env["PYTHONPATH"] = str(ROOT)
    env |= {f"MODASSIST_{name.upper()}": value for name, value in settings.items()}
    return env


def discord_settings(fake: FakeDiscord) -> dict[str, str]:
    """The settings (for `run_env`) of a bot on the fake Discord, starting fast."""
    return {
        "discord_token": TOKEN,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        "guild_ids": json.dumps([fake.GUILD_ID]),
        "mod_channel_id": str(fake.MOD_CHANNEL_ID),
        # discord.py fires `on_ready` once no GUILD_CREATE has come for this long. A process started here
        # competes with the suite's workers for two cores: with 0.05 s it was once starved past it between the
        # fake's READY and its GUILD_CREATE, and printed the server's name empty (1 whole suite in 6).
        "bot__guild_ready_timeout_seconds": "0.3",
    }


class _Awaited(ForkedProcess):
    """A forked process that an asyncio test waits for."""

    async def wait(self) -> int:
        """Wait until the process has ended; its exit status (minus the signal that ended it)."""
        await asyncio.to_thread(self._process.join)
        assert self._process.exitcode is not None
        return int(self._process.exitcode)


class Forked(_Awaited):
    """`tests.e2e.run_worker` forked from the tests' fork server (tests/forks.py), with the part of asyncio's
    `Process` the tests use: a process of its own, started without a second of imports."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self._process = FORKS.Process(target=run_worker.forked, args=(env, cwd))
        self._process.start()


class ForkedWithOutput(_Awaited):
    """`modassist run` (`bot.cli.main`, `fork_command`), or a test worker of it (`tests.e2e.run_worker`,
    `tests.e2e.fault_worker`, `fork_worker`), forked from the tests' fork server, with the part of asyncio's
    `Process` the tests use: its output as streams (None for one written to a file), `wait`, `kill` and
    `communicate`. A process of its own, as `python -m module` would be, without the second of CPU time that
    a new interpreter spends importing the runtime."""

    def __init__(
        self, process: Any, stdout: asyncio.StreamReader | None, stderr: asyncio.StreamReader | None
    ) -> None:
        self._process = process
        self.stdout = stdout
        self.stderr = stderr

    def kill(self) -> None:
        """SIGKILL."""
        self._process.kill()

    async def communicate(self) -> tuple[bytes, bytes]:
        """Read both outputs to their end and wait for the process."""
        out, err = await asyncio.gather(
            self.stdout.read() if self.stdout is not None else asyncio.sleep(0, b""),
            self.stderr.read() if self.stderr is not None else asyncio.sleep(0, b""),
        )
        await self.wait()
        return out, err


class _Output(asyncio.StreamReaderProtocol):
    """A child's output into a StreamReader; the socket is closed at its end (no writer to close)."""

    def eof_received(self) -> bool:
        super().eof_received()
        return False


async def _reader(end: socket.socket) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().create_unix_connection(lambda: _Output(reader), sock=end)
    return reader


# Where a forked child's output goes: True a stream the test reads, a path a file it appends to (os.devnull
# discards), False (standard error only) into standard output.
OutputSpec = Path | bool


async def _fork(
    target: Any, args: tuple[Any, ...], stdout: OutputSpec, stderr: OutputSpec
) -> ForkedWithOutput:
    """`target(*args, stdout end, stderr end)` forked from the fork server, its outputs wired as asked."""
    ends: list[socket.socket] = []  # the child's ends of the streams
    targets: list[socket.socket | str | None] = []
    streams: list[asyncio.StreamReader | None] = []
    for spec in (stdout, stderr):
        if spec is True:
            parent, child = socket.socketpair()
            ends.append(child)
            targets.append(child)
            streams.append(await _reader(parent))
        else:
            targets.append(None if spec is False else str(spec))
            streams.append(None)
    process = FORKS.Process(target=target, args=(*args, *targets))
    process.start()
    for end in ends:
        end.close()  # the child has its own: the streams end when it does
    return ForkedWithOutput(process, *streams)


async def fork_worker(
    module: str, *, cwd: Path, env: dict[str, str], merge_stderr: bool = False, file_limit: int | None = None
) -> ForkedWithOutput:
    """`python -m module` (a test worker), forked: stdout and stderr are streams (stderr into stdout with
    `merge_stderr`), `file_limit` the process's RLIMIT_FSIZE."""
    return await _fork(
        functools.partial(run_worker.forked_with_output, file_limit=file_limit),
        (module, env, cwd),
        True,
        not merge_stderr,
    )


async def fork_command(
    *argv: str, cwd: Path, env: dict[str, str], stdout: Path | None = None, stderr: Path | None = None
) -> ForkedWithOutput:
    """`modassist ARGV` (`fork_command("run", ...)`) through its real entry point `bot.cli.main`, in a process
    forked from the tests' fork server: a pid of its own, `env` its whole environment, `cwd` its working
    directory, real signals and exit status. Its stdout and stderr are streams, or appended to the file
    given (`os.devnull` discards). Not for what happens while a new interpreter starts (imports, the
    environment read then, the console script): start a new interpreter for that."""
    return await _fork(run_worker.forked_command, (list(argv), env, cwd), stdout or True, stderr or True)
