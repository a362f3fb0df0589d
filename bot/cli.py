"""The `modassist` command line. Each sub-command lives in `bot/commands/<name>.py` with a `register`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot.errors import ModassistError
from bot.textsafety import SafeFormatter, clean_line

# Each module has `register(subparsers)` adding the command named after it; add a line to add a command.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.commands.scan",
    "bot.commands.classify",
    "bot.commands.flags",
    "bot.commands.db",
    "bot.commands.run",
    "bot.commands.train",
)
# Each module has `register_eval(subparsers)` and adds one `modassist eval <name>` measurement.
EVAL_MODULES: tuple[str, ...] = (
    "bot.commands.eval_duplicates",
    "bot.commands.eval_offtopic",
    "bot.commands.eval_inflammatory",
)


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
    if EVAL_MODULES:
        evaluate = sub.add_parser("eval", help="measure a detector on the labelled corpora")
        eval_sub = evaluate.add_subparsers(dest="what", required=True, metavar="DETECTOR")
        for name in EVAL_MODULES:
            importlib.import_module(name).register_eval(eval_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    # Log lines and errors quote URLs, names and servers' answers: cleaned of terminal escapes.
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, handlers=[handler])
    try:
        return int(args.func(args) or 0)
    except ModassistError as exc:
        print(f"modassist: error: {clean_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("modassist: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
