"""`modassist-lab` (also `python -m lab`): the research commands, apart from the application's `modassist`.

    modassist-lab eval {duplicates,offtopic,inflammatory} [options]   measure a detector on the corpora
    modassist-lab train {inflammatory,offtopic} --output FILE [options]  fit a model into FILE

Each command is `lab/commands/<group>_<name>.py` with a `register(subparsers)`; add its name below to add it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot.cli import run_command

PROG = "modassist-lab"
# group -> (its help, its commands in the order `--help` lists them)
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "eval": ("measure a detector on the labelled corpora", ("duplicates", "offtopic", "inflammatory")),
    "train": ("fit a shipped model from labelled data", ("inflammatory", "offtopic")),
}
METAVARS = {"eval": "DETECTOR", "train": "MODEL"}


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser. Given a command line that names a command, only that command's module is
    imported (each pulls in scikit-learn and the corpus readers); otherwise every command is registered."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="modassist's research commands: measure the detectors, fit the shipped models."
    )
    sub = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    named = [arg for arg in argv if not arg.startswith("-")][:2]
    for group, (help_text, names) in GROUPS.items():
        group_parser = sub.add_parser(group, help=help_text)
        group_sub = group_parser.add_subparsers(dest="command", required=True, metavar=METAVARS[group])
        if named and named[0] in GROUPS and named[0] != group:
            continue  # another group is asked for: import none of this one's commands
        if len(named) == 2 and named[0] == group and named[1] in names:
            names = (named[1],)
        for name in names:
            importlib.import_module(f"lab.commands.{group}_{name}").register(group_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `modassist-lab` and `python -m lab`; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    return run_command(PROG, args)
