"""The project's own set-up: installing it prints no deprecation warning (issue 18, "no rough edges")."""

from __future__ import annotations

import re
import tomllib

from tests.paths import ROOT


def test_the_licence_is_an_spdx_expression_for_a_setuptools_that_reads_it() -> None:
    # setuptools 77 deprecates `license = { text = ... }` (a warning at every install until 2027-02-18, then
    # an error); an SPDX string needs setuptools 77 or later to build.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(project["project"]["license"], str)
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    found = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools)
    assert found is not None and int(found.group(1)) >= 77
