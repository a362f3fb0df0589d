"""Our own short threads (`lab/short_threads/threads.jsonl`): 4-12 posts on everyday subjects, hand-written
for this project, some with one post about another subject (labelled), some drifting legitimately.

The file fixes a `dev` and a `test` split by thread. Training and tuning read `dev` only; `test` is read
by the evaluation alone.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import DataError
from classifiers.thread import Post, Thread

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "short_threads" / "threads.jsonl"


@dataclass(frozen=True, slots=True)
class ShortThread:
    """A thread with its labels: which posts are off-topic, its style, kind and split."""

    thread: Thread
    off_topic: frozenset[str]
    style: str  # "discussion" or "question"
    kind: str  # "clean", "intruder", "shift" (and "spliced" for the augmented copies)
    subject: str
    split: str

    @property
    def labels(self) -> list[int]:
        """1 for an off-topic reply, 0 for an on-topic one (the opening post is not judged)."""
        return [int(p.id in self.off_topic) for p in self.thread.posts[1:]]


def load_short_threads(path: Path | None = None, *, split: str | None = None) -> list[ShortThread]:
    """The threads of `path` (default: the project's set), of one split or all."""
    path = path or DEFAULT_PATH
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read the short-thread set {path}: {exc.strerror}") from None
    threads = [_thread(json.loads(line)) for line in lines if line.strip()]
    return [t for t in threads if split is None or t.split == split]


def _thread(raw: dict[str, object]) -> ShortThread:
    posts = raw["posts"]
    assert isinstance(posts, list)
    thread = Thread(
        id=str(raw["thread_id"]),
        title=str(raw["title"]),
        posts=tuple(
            Post(str(p["id"]), str(p["text"]), author=str(p["author"]), position=i + 1)
            for i, p in enumerate(posts)
        ),
        source_format="jsonl",
    )
    off = frozenset(str(p["id"]) for p in posts if p.get("off_topic"))
    return ShortThread(
        thread, off, str(raw["style"]), str(raw["kind"]), str(raw["subject"]), str(raw["split"])
    )


def splice_short(threads: Sequence[ShortThread], seed: int = 14) -> list[ShortThread]:
    """Copies of the threads without an off-topic post, each with one reply of a thread of another subject
    put in at a random place after the opening post: more exactly labelled rows for training."""
    rng = random.Random(seed)
    donors = [(t.subject, p) for t in threads for p in t.thread.posts[1:] if p.id not in t.off_topic]
    spliced = []
    for t in threads:
        if t.off_topic:
            continue
        _, donor = rng.choice([d for d in donors if d[0] != t.subject])
        at = rng.randint(1, len(t.thread.posts))
        guest = replace(donor, id=f"{t.thread.id}~{donor.id}")
        posts = [*t.thread.posts[:at], guest, *t.thread.posts[at:]]
        posts = [replace(p, position=i + 1) for i, p in enumerate(posts)]
        thread = replace(t.thread, id=f"{t.thread.id}~spliced", posts=tuple(posts))
        spliced.append(replace(t, thread=thread, off_topic=frozenset([guest.id]), kind="spliced"))
    return spliced
