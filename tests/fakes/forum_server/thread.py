"""A thread of the fake forum and its posts: what `add_post` and `edit_post` change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.fakes.forum_server.pages import ThreadPages

if TYPE_CHECKING:
    from tests.fakes.forum_server.server import ForumServer


@dataclass(slots=True)
class ForumPost:
    """A post of a fake thread."""

    id: int
    author: str
    text: str
    quote: tuple[str, int, str] | None = None  # (author, post id, quoted text)
    changed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class ForumThread(ThreadPages):
    """A thread of the fake forum; `add_post` and `edit_post` change what its pages show."""

    def __init__(self, forum: ForumServer, thread_id: int, slug: str, title: str) -> None:
        self.forum = forum
        self.id = thread_id
        self.slug = slug
        self.title = title
        self.posts: list[ForumPost] = []
        self.changed_at = datetime.now(UTC) - timedelta(days=1)

    @property
    def path(self) -> str:
        """`/threads/<slug>.<id>/`"""
        return f"/threads/{self.slug}.{self.id}/"

    @property
    def url(self) -> str:
        """The thread's URL (page 1)."""
        return self.forum.base_url + self.path

    def page_path(self, page: int) -> str:
        """The path of page `page` (1-based)."""
        return self.path if page == 1 else f"{self.path}page-{page}"

    def page_url(self, page: int) -> str:
        """The URL of page `page`."""
        return self.forum.base_url + self.page_path(page)

    def permalink(self, post_id: int) -> str:
        """A post's permalink, as the forum links it."""
        return f"{self.url}post-{post_id}"

    @property
    def pages(self) -> int:
        """How many pages the thread has."""
        return max(1, -(-len(self.posts) // self.forum.posts_per_page))

    def add_post(self, author: str, text: str, *, quote: int | None = None) -> int:
        """Append a post (quoting post `quote` whole, if given); returns its id."""
        post_id = next(self.forum.post_ids)
        quoted = None
        if quote is not None:
            source = self.post(quote)
            quoted = (source.author, source.id, source.text)
        self._touch()
        self.posts.append(ForumPost(post_id, author, text, quoted, self.changed_at))
        return post_id

    def edit_post(self, post_id: int, text: str) -> None:
        """Change a post's text."""
        post = self.post(post_id)
        self._touch()
        post.text = text
        post.changed_at = self.changed_at

    def post(self, post_id: int) -> ForumPost:
        """The post with this id."""
        return next(p for p in self.posts if p.id == post_id)

    def _touch(self) -> None:
        # Last-Modified has whole seconds: every change moves the clock on by one, so a change is never
        # hidden behind an If-Modified-Since of the same second.
        self.changed_at = max(
            datetime.now(UTC).replace(microsecond=0), self.changed_at + timedelta(seconds=1)
        )
