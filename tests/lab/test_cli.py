"""The research command line, `modassist-lab`, and the application's pointer to it: `modassist eval` and
`modassist train` say in one line where they went."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from bot.cli import main as modassist_main
from lab.cli import GROUPS, build_parser
from lab.cli import main as lab_main


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (
            ["eval", "offtopic", "--data-dir", "../shared/data"],
            "modassist-lab eval offtopic --data-dir ../shared/data",
        ),
        (["-v", "eval"], "modassist-lab eval ..."),
        (
            ["train", "--corpora", "../shared/data"],
            "modassist-lab train inflammatory --corpora ../shared/data",
        ),
        (["train", "--data", "my rows.csv"], "modassist-lab train inflammatory --data 'my rows.csv'"),
    ],
)
def test_modassist_eval_and_train_point_to_modassist_lab_in_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], suggestion: str
) -> None:
    assert modassist_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    command = next(a for a in argv if not a.startswith("-"))
    assert captured.err == f"modassist: `{command}` is a research command now: run `{suggestion}`\n"


def test_the_application_lists_no_research_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        modassist_main(["--help"])
    out = capsys.readouterr().out
    assert "scan" in out
    assert "eval" not in out
    assert "train" not in out


def test_modassist_lab_is_a_console_script_of_the_package() -> None:
    (script,) = entry_points(group="console_scripts", name="modassist-lab")
    assert script.value == "lab.cli:main"
    assert script.load() is lab_main


def test_every_command_keeps_its_options_and_defaults() -> None:
    parser = build_parser()
    for group, (_, names) in GROUPS.items():
        for name in names:
            required = ["--output", "m.npz"] if group == "train" else []
            parsed = parser.parse_args([group, name, *required])
            assert parsed.func.__module__ == f"lab.commands.{group}_{name}"
    offtopic = parser.parse_args(["eval", "offtopic"])
    assert (offtopic.data_dir, offtopic.threshold, offtopic.short_threads) == (None, None, None)
    assert offtopic.plot == Path("benchmarks/out/offtopic_pr.png")
    inflammatory = parser.parse_args(["eval", "inflammatory", "--no-peer", "--model", "m.npz"])
    assert (inflammatory.no_peer, inflammatory.model) == (True, Path("m.npz"))
    assert parser.parse_args(["eval", "duplicates"]).plot == Path("benchmarks/out/duplicates_pr.png")
    train = parser.parse_args(
        ["train", "inflammatory", "--corpora", "d", "--with-peer", "--folds", "3", "--output", "m.npz"]
    )
    assert (train.corpora, train.with_peer, train.folds, train.c) == (Path("d"), True, 3, 1.0)
    assert parser.parse_args(["train", "offtopic", "--data-dir", "d", "--output", "o.npz"]).data_dir == Path(
        "d"
    )


@pytest.mark.parametrize("model", ["inflammatory", "offtopic"])
def test_training_never_writes_the_shipped_model_unless_told_where(
    model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser(["train", model]).parse_args(["train", model])
    assert exit_info.value.code == 2
    assert "the following arguments are required: --output" in capsys.readouterr().err


def test_a_command_line_naming_a_command_imports_that_command_only() -> None:
    parser = build_parser(["train", "offtopic", "--output", "x.npz"])
    parsed = parser.parse_args(["train", "offtopic", "--output", "x.npz"])
    assert parsed.func.__module__ == "lab.commands.train_offtopic"
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "duplicates"])  # not registered: only `train offtopic` was asked for


def test_a_missing_command_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        lab_main(["eval"])
    assert exit_info.value.code == 2
    assert "modassist-lab eval" in capsys.readouterr().err
