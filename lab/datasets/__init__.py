"""Readers for the labelled public corpora in the shared data folder (never copied into the project)."""

from __future__ import annotations

from pathlib import Path

from bot.errors import ConfigError


def corpus_dir(data_dir: Path, name: str) -> Path:
    """The folder of corpus `name` under `data_dir`, with a clear error when it is missing."""
    folder = data_dir / name
    if not folder.is_dir():
        raise ConfigError(
            f"corpus folder {folder} not found: "
            "pass --data-dir or set MODASSIST_DATA_DIR to the shared data folder"
        )
    return folder


def corpus_file(data_dir: Path, name: str, filename: str) -> Path:
    """The file `filename` of corpus `name` under `data_dir`, with a clear error when it is missing."""
    return existing_file(corpus_dir(data_dir, name) / filename)


def existing_file(path: Path) -> Path:
    """`path`, or a clear error when it is not a file."""
    if not path.is_file():
        raise ConfigError(f"corpus file {path} not found: is --data-dir the shared data folder?")
    return path
