"""A local XenForo 2 forum on 127.0.0.1 for the watcher tests: threads that grow while the tests run.

Pages are written in the XenForo 2 markup the parser reads (`article.message--post`, `.bbWrapper`, quote
blocks with `data-quote` / `data-source`, `link[rel=canonical]`, the "#N" post links) and paginated the
XenForo way: `/threads/<slug>.<id>/` is page 1, `/threads/<slug>.<id>/page-N` the others, with a
`.pageNav` and `link[rel=next]`; a page past the last redirects to the last. Posts link to their permalink
`/threads/<slug>.<id>/post-<post id>`.

Answers carry an ETag and a Last-Modified (either can be switched off) and honour If-None-Match and
If-Modified-Since with 304. Tests script the next answers: `fail(status, retry_after=...)`, `hold()` (an
answer that waits until released: a slow server), `truncate()` (the page cut off mid-post, served whole at
HTTP level) and `cut_connection()` (the connection dropped mid-body). Every request is recorded with its
headers, the time it arrived (monotonic) and the status it got.

The parts: `thread` (threads and posts), `pages` (their XenForo 2 HTML) and `server` (`ForumServer`: HTTP,
scripted answers, recorded requests).
"""

from tests.fakes.forum_server.server import ForumRequest, ForumServer
from tests.fakes.forum_server.thread import ForumPost, ForumThread

__all__ = ["ForumPost", "ForumRequest", "ForumServer", "ForumThread"]
