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
