"""Room sizes: no function over 60 lines, no Python file over 400 (STYLE.md, issue 16).

A function is counted from its `def` line through its last line, decorators excluded; nested functions
are counted on their own as well as inside their parent. Prints every offender as `path:line: ...` and
exits 1 while any remain, 0 when there are none.

Usage: python tools/check_lengths.py [FOLDER ...]   (default: the project's Python folders)
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("bot", "classifiers", "config", "lab", "benchmarks", "tests", "tools")
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 400


def python_files(folders: list[Path]) -> Iterator[Path]:
    """Every `.py` file under the folders, in a stable order (only Python files: `_shingles.c` is not one)."""
    for folder in folders:
        if folder.is_file():
            yield folder
            continue
        for path in sorted(folder.rglob("*.py")):
            if not any(part.startswith(".") or part == "__pycache__" for part in path.parts):
                yield path


def long_functions(tree: ast.AST) -> Iterator[tuple[int, str, int]]:
    """(line, qualified name, length) of each function longer than the limit."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[int, str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    yield child.lineno, name, length
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def offenders(folders: list[Path]) -> list[str]:
    """One line per file over the limit and per function over the limit."""
    found = []
    for path in python_files(folders):
        source = path.read_text(encoding="utf-8")
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        lines = len(source.splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{shown}:1: file has {lines} lines (max {MAX_FILE_LINES})")
        for line, name, length in long_functions(ast.parse(source, filename=str(path))):
            found.append(f"{shown}:{line}: function {name} has {length} lines (max {MAX_FUNCTION_LINES})")
    return found


def main(argv: list[str]) -> int:
    """Print the offenders; exit 1 if there are any."""
    folders = [Path(a).resolve() for a in argv] or [ROOT / f for f in FOLDERS if (ROOT / f).exists()]
    found = offenders(folders)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} over the limits (functions <= {MAX_FUNCTION_LINES}, files <= {MAX_FILE_LINES})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
