"""The `modassist` command line. Each sub-command lives in `bot/commands/<name>.py` with a `register`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import shlex
import sys
from collections.abc import Sequence

from bot.errors import ConfigError, ModassistError
from bot.textsafety import SafeFormatter, clean_line
from config.errors import ConfigurationError

# Each module has `register(subparsers)` adding the command named after it; add a line to add a command.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.commands.scan",
    "bot.commands.classify",
    "bot.commands.flags",
    "bot.commands.db",
    "bot.commands.run",
    "bot.commands.config",
)
# Research commands that moved to `modassist-lab` (lab/cli.py): what each became there.
MOVED = {"eval": "eval", "train": "train inflammatory"}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser. Given the command line, only the command it names is imported (some pull in
    discord.py or scikit-learn, which take a second to import); otherwise every command is registered."""
    parser = argparse.ArgumentParser(
        prog="modassist",
        description="Moderation assistant: flags off-topic, inflammatory and duplicated-quote posts.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = {module.rsplit(".", 1)[1]: module for module in COMMAND_MODULES}
    wanted = next((arg for arg in argv or () if not arg.startswith("-")), None)
    if wanted in named:
        importlib.import_module(named[wanted]).register(sub)
        return parser
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def moved(arguments: Sequence[str]) -> str | None:
    """One line saying where a research command went, when the command line names one."""
    at = next((i for i, arg in enumerate(arguments) if not arg.startswith("-")), None)
    if at is None or arguments[at] not in MOVED:
        return None
    command = arguments[at]
    rest = shlex.join(arguments[at + 1 :]) or "..."
    return f"modassist: `{command}` is a research command now: run `modassist-lab {MOVED[command]} {rest}`"


# The detectors multiply small matrices (a sentence of 128 tokens at most): one BLAS thread is as fast on an
# idle machine, and on a busy one several threads spin against each other and the other work, up to ten
# times slower. Set before numpy is first imported (the commands import it); the environment's own wins.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)
    arguments = list(sys.argv[1:] if argv is None else argv)
    if (pointer := moved(arguments)) is not None:
        print(clean_line(pointer), file=sys.stderr)
        return 2
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    # Log lines and errors quote URLs, names and servers' answers: cleaned of terminal escapes.
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, handlers=[handler])
    return run_command("modassist", args)


def run_command(prog: str, args: argparse.Namespace) -> int:
    """Run the parsed command `args.func(args)`; a domain error is one line on stderr with its exit status
    (shared by `modassist` and `modassist-lab`)."""
    try:
        return int(args.func(args) or 0)
    except ModassistError as exc:
        print(f"{prog}: error: {clean_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except ConfigurationError as exc:  # settings that cannot be read: a line per mistake
        for problem in exc.problems:
            print(f"{prog}: error: {clean_line(problem)}", file=sys.stderr)
        return ConfigError.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
