"""SemEval-2015 task 3 Qatar Living threads: a question and its replies, each reply judged for relevance."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classifiers.thread import Post, Thread
from lab.datasets import corpus_file

DEV = "qatarliving_threads_dev.jsonl"
# Human labels of a reply: Good / Potential answer the question, Bad is not relevant to it,
# Dialogue is chit-chat between users ("Not English" also occurs, twice).
LABELS = ("Good", "Potential", "Bad", "Dialogue", "Not English")

_TAG = re.compile(r"<[^>]{0,2000}>")


def plain_text(markup: str) -> str:
    """A reply's text as a forum page shows it: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub(" ", markup)).strip()


@dataclass(frozen=True, slots=True)
class QatarLivingThread:
    """A question thread as a `Thread` (the question is post 1) with each reply's label."""

    thread: Thread
    category: str
    labels: dict[str, str]
    same_user_as_question: frozenset[str]


def read_qatarliving(path: Path) -> Iterator[QatarLivingThread]:
    """Read the Qatar Living JSON Lines file, one question thread a line."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            raw = json.loads(line)
            qid = str(raw["qid"])
            posts = [
                Post(id=qid, text=plain_text(raw.get("body") or ""), author=raw.get("quser"), position=1)
            ]
            labels: dict[str, str] = {}
            same_user: set[str] = set()
            for position, c in enumerate(raw.get("comments", []), start=2):
                cid = str(c["cid"])
                posts.append(
                    Post(
                        id=cid,
                        text=plain_text(c.get("cbody") or ""),
                        author=c.get("cuser"),
                        position=position,
                    )
                )
                labels[cid] = c.get("label", "")
                if c.get("same_user_as_question"):
                    same_user.add(cid)
            thread = Thread(id=qid, title=raw.get("subject") or "", posts=tuple(posts))
            yield QatarLivingThread(thread, raw.get("category", ""), labels, frozenset(same_user))


def load_qatarliving(data_dir: Path) -> list[QatarLivingThread]:
    """The development threads."""
    return list(read_qatarliving(corpus_file(data_dir, "semeval2015_qatarliving", DEV)))
