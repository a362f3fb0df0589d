"""`modassist run`: the long-running moderation assistant.

It prints the settings summary of `config check`, builds the detector suite and hands over to the
composition root (`bot.runtime.serve`), which opens the store and runs the dispatcher, the Discord bot (with
a token; else alerts go to the console) and the watchers until SIGINT or SIGTERM, saying when the bot has
connected and when it has stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.commands.config import check, run_problems
from bot.errors import ConfigError
from bot.runtime import serve
from bot.store.integrity import refusing_unusable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `run` command."""
    parser = sub.add_parser(
        "run",
        help="run the bot and the alert dispatcher (console alerts without a Discord token)",
        description=(
            "Send flagged posts' alerts to the moderators' Discord channel and answer their buttons and /modq"
            " commands; without MODASSIST_DISCORD_TOKEN alerts are printed on the console. SIGINT or SIGTERM"
            " stops it cleanly."
        ),
    )
    parser.add_argument(
        "--flush",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on shutdown, keep sending due alerts for up to SECONDS (default: leave them in the outbox)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the settings summary (as `config check` does), then run until interrupted."""
    settings = check().settings
    problems = run_problems(settings)
    if problems:  # before the models load and the database is created: said at once, in one line
        raise ConfigError("; ".join(problems))
    # A blank line after it, flushed before the models load, also when standard output is a pipe (a log).
    print(flush=True)
    from bot.detectors import build_suite  # loading the models is slow: only when run

    suite = build_suite(settings)
    # Opening the store refuses a damaged, newer, read-only or full database; these failures, at start or
    # later (closing, flushing), end in one line naming the file (exit 2), not a traceback.
    with contextlib.suppress(KeyboardInterrupt), refusing_unusable(settings.database):
        return asyncio.run(serve(settings, suite, flush_seconds=args.flush))
    return 130
