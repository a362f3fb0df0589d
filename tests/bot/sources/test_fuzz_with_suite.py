"""Fuzzing the parsers and the detector suite together (issue 13): whatever the input, `scan` ends with
exit status 0, 1 or 2 and never a traceback, and every post the parsers return is reviewed.

`tests/fixtures/crashers/` holds inputs of our own that crashed `scan` before (4+ posts without text of
their own in one batch raised IndexError in the inflammatory model): each is a regression test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.detectors import build_suite
from bot.errors import ParseError
from bot.sources import parse_text
from classifiers.suite import DetectorSuite
from config.settings import Settings
from tests import paths
from tests.bot.sources.test_fuzz import SAMPLES, mutated

CRASHERS = sorted((paths.FIXTURES / "crashers").iterdir())


@pytest.fixture(scope="module")
def suite() -> DetectorSuite:
    return build_suite(Settings(_env_file=None))  # type: ignore[call-arg]


@pytest.mark.parametrize("path", CRASHERS, ids=[p.name for p in CRASHERS])
def test_inputs_that_crashed_scan_are_scanned(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") >= 4 and "Traceback" not in err
    if path.suffix == ".jsonl":
        assert main(["classify", "--input", str(path)]) == 0
        assert capsys.readouterr().out.count("\n") == out.count("\n")


@st.composite
def inputs(draw: st.DrawFn) -> str:
    """A fixture or a crasher, mutated, or text made of forum-ish pieces."""
    if draw(st.booleans()):
        return draw(mutated())
    seed = draw(st.sampled_from(SAMPLES + [p.read_text(encoding="utf-8") for p in CRASHERS]))
    cut = draw(st.integers(0, len(seed)))
    return seed[:cut] + draw(st.text(max_size=60)) + seed[cut:]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=inputs())
def test_parsed_input_is_always_reviewed_whole(suite: DetectorSuite, text: str) -> None:
    try:
        threads = parse_text(text, "fuzz")
    except ParseError:
        return
    for thread in threads:
        reviews = suite.review_thread(thread)
        assert [r.post.id for r in reviews] == [p.id for p in thread.posts]
        assert all(not r.failures for r in reviews)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=inputs())
def test_scan_of_any_input_ends_with_0_1_or_2_and_no_traceback(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "input.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert main(["scan", "--json", str(path)]) in (0, 1, 2)
    assert "Traceback" not in capsys.readouterr().err
