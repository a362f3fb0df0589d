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


def test_an_editable_install_is_a_plain_path_entry_without_setuptools_notice() -> None:
    # With the packages at the top of the checkout and no `package-dir`, setuptools (>= 64) installs an
    # editable checkout through an import hook and prints "BuildBackendWarning: Editable installation."
    # (a boxed notice that reads like an error) at every `make demo`. `package-dir = {"" = "."}` makes it
    # the simple layout: a .pth file naming the checkout, and no notice.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["package-dir"] == {"": "."}
