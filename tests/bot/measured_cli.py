"""Running the real `modassist` console script in a subprocess and reading its peak memory (RSS).

Linux counts into a new process's peak RSS the peak of the process that started it (recorded at exec), so a
child of the test process would report the test process's own size. The command is therefore started by a
small launcher (a fresh Python of about 10 MB), which reads the command's peak with `os.wait4`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.bot.cli_runner import ROOT

_LAUNCHER = """
import os, sys
command = [sys.executable, "-m", "bot.cli", *sys.argv[2:]]
pid = os.posix_spawn(sys.executable, command, os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))  # KiB on Linux
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass(frozen=True)
class MeasuredRun:
    """What a finished `modassist` process left: exit status, output, and its peak resident memory."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_mib: float


def run_measured(
    *args: str,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    stdin: Path | None = None,
    timeout: float = 300.0,
) -> MeasuredRun:
    """Run `modassist ARGS` with only the given MODASSIST_* settings; stdin from a file, output via files."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MODASSIST_")}
    environ.update(env or {})
    out_path, err_path = tmp_path / "measured.stdout", tmp_path / "measured.stderr"
    rss_path = tmp_path / "measured.maxrss"
    source_path = stdin if stdin is not None else Path(os.devnull)
    with out_path.open("wb") as out, err_path.open("wb") as err, source_path.open("rb") as source:
        launcher = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(rss_path), *args],
            stdin=source,
            stdout=out,
            stderr=err,
            cwd=ROOT,
            env=environ,
            start_new_session=True,
        )
        try:
            returncode = launcher.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # A hung command must not hang the suite: kill the launcher and the command, then fail.
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
            raise
    return MeasuredRun(
        returncode=returncode,
        stdout=out_path.read_text(encoding="utf-8"),
        stderr=err_path.read_text(encoding="utf-8"),
        peak_rss_mib=int(rss_path.read_text()) / 1024,
    )
