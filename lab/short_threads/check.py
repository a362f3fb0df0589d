"""Validate lab/short_threads/threads.jsonl and print its counts.

Standard library only. Usage:

    python lab/short_threads/check.py [path/to/threads.jsonl]

Exits 0 when every check passes, 1 otherwise (each failure is printed).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

KINDS = ("intruder", "clean", "shift")
STYLES = ("question", "discussion")
SPLITS = ("dev", "test")
THREAD_KEYS = {"thread_id", "title", "subject", "style", "kind", "split", "posts"}
POST_KEYS = {"id", "author", "text", "off_topic"}

MIN_THREADS = 150
MIN_SUBJECTS = 25
MIN_QUESTION = 40
MIN_SHIFT = 20
MIN_POSTS, MAX_POSTS = 4, 12
TEST_SHARE = 0.30
TEST_TOLERANCE = 0.06  # each kind and style must have 24%-36% of its threads in test


def load(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    threads: list[dict[str, Any]] = []
    errors: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: empty line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"line {n}: not a JSON object")
            continue
        threads.append(obj)
    return threads, errors


def nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def check_thread(t: dict[str, Any], seen_ids: set[str]) -> list[str]:
    tid = t.get("thread_id", "?")
    errs: list[str] = []
    if set(t) != THREAD_KEYS:
        errs.append(f"{tid}: keys {sorted(t)} != {sorted(THREAD_KEYS)}")
        return errs
    for key in ("thread_id", "title", "subject"):
        if not nonempty_str(t[key]):
            errs.append(f"{tid}: {key} must be a non-empty string")
    if t["style"] not in STYLES:
        errs.append(f"{tid}: bad style {t['style']!r}")
    if t["kind"] not in KINDS:
        errs.append(f"{tid}: bad kind {t['kind']!r}")
    if t["split"] not in SPLITS:
        errs.append(f"{tid}: bad split {t['split']!r}")
    if tid in seen_ids:
        errs.append(f"{tid}: duplicate thread_id")
    seen_ids.add(tid)

    posts = t["posts"]
    if not isinstance(posts, list) or not MIN_POSTS <= len(posts) <= MAX_POSTS:
        n = len(posts) if isinstance(posts, list) else "not a list"
        errs.append(f"{tid}: needs {MIN_POSTS}-{MAX_POSTS} posts, has {n}")
        return errs
    off: list[int] = []
    for i, p in enumerate(posts, 1):
        if not isinstance(p, dict) or set(p) != POST_KEYS:
            errs.append(f"{tid} post {i}: keys must be {sorted(POST_KEYS)}")
            continue
        if p["id"] != f"{tid}-{i}":
            errs.append(f"{tid} post {i}: id {p['id']!r} should be {tid}-{i}")
        if p["id"] in seen_ids:
            errs.append(f"{tid} post {i}: duplicate id {p['id']!r}")
        seen_ids.add(p["id"])
        if not nonempty_str(p["author"]) or not nonempty_str(p["text"]):
            errs.append(f"{tid} post {i}: author and text must be non-empty strings")
        if not isinstance(p["off_topic"], bool):
            errs.append(f"{tid} post {i}: off_topic must be true or false")
        elif p["off_topic"]:
            off.append(i)
    if t["kind"] == "intruder":
        if len(off) != 1:
            errs.append(f"{tid}: intruder thread needs exactly one off_topic post, has {len(off)}")
        elif off[0] == 1:
            errs.append(f"{tid}: the off_topic post must never be post 1")
    elif off:
        errs.append(f"{tid}: {t['kind']} thread must have no off_topic post, has {off}")
    return errs


def check_totals(threads: list[dict[str, Any]]) -> list[str]:
    errs: list[str] = []
    n = len(threads)
    kinds = Counter(t["kind"] for t in threads)
    styles = Counter(t["style"] for t in threads)
    subjects = Counter(t["subject"] for t in threads)
    if n < MIN_THREADS:
        errs.append(f"only {n} threads, need at least {MIN_THREADS}")
    if len(subjects) < MIN_SUBJECTS:
        errs.append(f"only {len(subjects)} subjects, need at least {MIN_SUBJECTS}")
    if abs(kinds["intruder"] - n / 2) > 1:
        errs.append(f"intruder threads should be half of {n}, are {kinds['intruder']}")
    if not 0.25 <= kinds["clean"] / max(n, 1) <= 0.40:
        errs.append(f"clean threads should be about a third, are {kinds['clean']}/{n}")
    if kinds["shift"] < MIN_SHIFT:
        errs.append(f"only {kinds['shift']} shift threads, need at least {MIN_SHIFT}")
    if styles["question"] < MIN_QUESTION:
        errs.append(f"only {styles['question']} question threads, need at least {MIN_QUESTION}")
    for style in STYLES:
        for kind in ("intruder", "shift"):
            if not any(t["style"] == style and t["kind"] == kind for t in threads):
                errs.append(f"no {kind} thread in {style} style")

    groups = [("all", threads)]
    groups += [(f"kind={k}", [t for t in threads if t["kind"] == k]) for k in KINDS]
    groups += [(f"style={s}", [t for t in threads if t["style"] == s]) for s in STYLES]
    for name, group in groups:
        if not group:
            continue
        share = sum(t["split"] == "test" for t in group) / len(group)
        if abs(share - TEST_SHARE) > TEST_TOLERANCE:
            errs.append(f"{name}: test share {share:.0%}, want {TEST_SHARE:.0%} ± {TEST_TOLERANCE:.0%}")
    for subject, count in subjects.items():
        splits = {t["split"] for t in threads if t["subject"] == subject}
        if count >= 3 and splits != set(SPLITS):
            errs.append(f"subject {subject!r} ({count} threads) is not in both splits")
    return errs


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for j, r in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(threads: list[dict[str, Any]]) -> None:
    def row(name: str, group: list[dict[str, Any]]) -> list[str]:
        dev = sum(t["split"] == "dev" for t in group)
        test = len(group) - dev
        share = f"{test / len(group):.0%}" if group else "-"
        return [name, str(dev), str(test), str(len(group)), share]

    head = ["", "dev", "test", "total", "test%"]
    rows = [head]
    for kind in KINDS:
        for style in STYLES:
            group = [t for t in threads if t["kind"] == kind and t["style"] == style]
            rows.append(row(f"{kind} / {style}", group))
    rows += [row(f"kind {k}", [t for t in threads if t["kind"] == k]) for k in KINDS]
    rows += [row(f"style {s}", [t for t in threads if t["style"] == s]) for s in STYLES]
    rows.append(row("ALL threads", threads))
    posts = [p for t in threads for p in t["posts"]]
    print(table(rows))
    print(f"\nposts: {len(posts)} ({sum(p['off_topic'] for p in posts)} off_topic)")

    sizes = Counter(len(t["posts"]) for t in threads)
    print("posts per thread: " + ", ".join(f"{k}:{sizes[k]}" for k in sorted(sizes)))
    pos = Counter(
        next(i for i, p in enumerate(t["posts"], 1) if p["off_topic"])
        for t in threads
        if t["kind"] == "intruder"
    )
    last = sum(t["posts"][-1]["off_topic"] for t in threads if t["kind"] == "intruder")
    print("intruder position: " + ", ".join(f"#{k}:{pos[k]}" for k in sorted(pos)) + f" (last post: {last})")

    subjects = sorted({t["subject"] for t in threads})
    print(f"\nsubjects: {len(subjects)}")
    rows = [["subject", "dev", "test", "intruder", "clean", "shift", "question"]]
    for s in subjects:
        g = [t for t in threads if t["subject"] == s]
        rows.append(
            [
                s,
                str(sum(t["split"] == "dev" for t in g)),
                str(sum(t["split"] == "test" for t in g)),
                *(str(sum(t["kind"] == k for t in g)) for k in KINDS),
                str(sum(t["style"] == "question" for t in g)),
            ]
        )
    print(table(rows))


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("threads.jsonl")
    threads, errors = load(path)
    seen: set[str] = set()
    for t in threads:
        errors += check_thread(t, seen)
    if not errors:
        errors += check_totals(threads)
    if not errors:
        report(threads)
    for e in errors:
        print(f"FAIL {e}")
    print(f"\n{path}: {'FAILED, ' + str(len(errors)) + ' problem(s)' if errors else 'all checks passed'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
