"""The `modassist-lab` commands, one module per command (`eval_<detector>.py`, `train_<model>.py`), each with
`register(subparsers)`; and the options they share, declared once here."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str, doc: str | None
) -> argparse.ArgumentParser:
    """The parser of one command: its one-line help, and its module docstring past the first paragraph as
    the description."""
    return sub.add_parser(
        name,
        help=help,
        description=(doc or "").split("\n\n", 1)[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """`--data-dir`: the shared data folder (None when not given: the command reads `Settings.data_dir`)."""
    parser.add_argument("--data-dir", type=Path, help="the shared data folder (default: Settings.data_dir)")


def add_threshold(parser: argparse.ArgumentParser) -> None:
    """`--threshold`: the flag threshold (None when not given: the command reads the settings)."""
    parser.add_argument("--threshold", type=float, help="flag threshold (default: Settings)")


def add_plot(parser: argparse.ArgumentParser, name: str) -> None:
    """`--plot`: where the precision-recall curves go, `benchmarks/out/<name>_pr.png` by default."""
    parser.add_argument(
        "--plot", type=Path, default=Path(f"benchmarks/out/{name}_pr.png"), help="PR curve PNG"
    )


def add_short_threads(parser: argparse.ArgumentParser) -> None:
    """`--short-threads`: our short everyday threads (None when not given: the project's set)."""
    parser.add_argument(
        "--short-threads",
        type=Path,
        help="short threads JSON Lines (default: lab/short_threads/threads.jsonl)",
    )
