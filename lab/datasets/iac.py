"""The Internet Argument Corpus 4forums threads: threads with inline, unmarked quotes and their spans."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classifiers.thread import Post, Thread
from lab.datasets import corpus_file

POLITICAL = "threads_political_sample_dev.jsonl"
NONPOLITICAL = "threads_nonpolitical_pool_dev.jsonl"


@dataclass(frozen=True, slots=True)
class QuoteSpan:
    """A quoted character span of a post's text and the post it quotes (None: unattributed)."""

    start: int
    end: int
    post_id: str | None
    author: str | None


@dataclass(frozen=True, slots=True)
class IacThread:
    """A thread as a `Thread` plus what the corpus labels about it."""

    thread: Thread
    subforum: str
    quote_spans: dict[str, tuple[QuoteSpan, ...]]
    parents: dict[str, str | None]

    def in_thread_quoted_share(self, post: Post, *, resolve: str = "id") -> float:
        """Share of `post`'s non-space characters that quote an earlier post of this thread.

        `resolve` says which quote spans count as in-thread:
        - "id": the span's quoted post id is an earlier post of the thread (the corpus' own attribution);
        - "author": also spans without a post id whose author wrote an earlier post;
        - "text": also spans without a post id whose text stands verbatim (whitespace aside) in an
          earlier post.
        """
        before = self.thread.posts[: (post.position or 1) - 1]
        earlier = {p.id for p in before}
        earlier_authors = {p.author for p in before if p.author}
        covered = [False] * len(post.text)
        earlier_text: str | None = None
        for span in self.quote_spans.get(post.id, ()):
            if span.post_id is not None:
                in_thread = span.post_id in earlier
            elif resolve == "author":
                in_thread = span.author in earlier_authors
            elif resolve == "text":
                if earlier_text is None:
                    earlier_text = "\n".join(_squash(p.text) for p in before)
                passage = _squash(post.text[span.start : span.end])
                in_thread = bool(passage) and passage in earlier_text
            else:
                in_thread = False
            if in_thread:
                for i in range(max(0, span.start), min(len(post.text), span.end)):
                    covered[i] = True
        non_space = [c for c, ch in zip(covered, post.text, strict=True) if not ch.isspace()]
        return sum(non_space) / len(non_space) if non_space else 0.0


def _squash(text: str) -> str:
    return " ".join(text.split())


def read_iac(path: Path) -> Iterator[IacThread]:
    """Read one IAC JSON Lines file of threads."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            raw = json.loads(line)
            posts = []
            spans: dict[str, tuple[QuoteSpan, ...]] = {}
            parents: dict[str, str | None] = {}
            for position, p in enumerate(raw["posts"], start=1):
                pid = str(p["post_id"])
                posts.append(Post(id=pid, text=p["text"], author=p.get("author"), position=position))
                spans[pid] = tuple(
                    QuoteSpan(
                        q["start"],
                        q["end"],
                        str(q["quote_post_id"]) if q.get("quote_post_id") is not None else None,
                        q.get("quote_author"),
                    )
                    for q in p.get("quotes", [])
                )
                parent = p.get("parent_id")
                parents[pid] = str(parent) if parent is not None else None
            thread = Thread(
                id=str(raw["discussion_id"]),
                title=raw.get("title") or "",
                posts=tuple(posts),
                url=raw.get("url"),
            )
            yield IacThread(
                thread=thread, subforum=raw.get("subforum", ""), quote_spans=spans, parents=parents
            )


def load_iac(data_dir: Path, *, political: bool = True) -> list[IacThread]:
    """The political sample (default) or the non-political pool."""
    return list(read_iac(corpus_file(data_dir, "iac_4forums", POLITICAL if political else NONPOLITICAL)))


def repeat_threads(threads: list[Thread], n_posts: int) -> list[Thread]:
    """Copies of the threads under new thread and post ids, round after round, until there are `n_posts`
    posts (large inputs for benchmarks, built at run time)."""
    out: list[Thread] = []
    total = 0
    round_ = 0
    while total < n_posts:
        for thread in threads:
            posts = thread.posts[: n_posts - total]
            if not posts:
                break
            tid = f"{thread.id}~{round_}"
            out.append(
                Thread(
                    id=tid,
                    title=thread.title,
                    posts=tuple(
                        Post(id=f"{p.id}~{round_}", text=p.text, author=p.author, position=p.position)
                        for p in posts
                    ),
                    url=f"https://bench.test/threads/{tid}/",
                )
            )
            total += len(posts)
        round_ += 1
    return out
