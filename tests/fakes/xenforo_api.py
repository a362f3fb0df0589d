"""A fake XenForo 2 REST API on 127.0.0.1: soft-deleting posts and locking threads, as XenForo answers them.

Routes: `DELETE /api/posts/{id}` (`hard_delete`, `reason`, `author_alert`, `author_alert_reason`) and
`POST /api/threads/{id}` (`discussion_open`), parameters read from the query string and the form body alike,
as XenForo does. Every request is recorded (`calls`) with its headers and parameters.

Keys, as XenForo treats them:
- `KEY`: a user key that may delete posts and lock threads;
- `SUPER_KEY`: a super-user key, acting as the user named by `XF-Api-User` (`SUPER_USER` may; a super-user
  key without `XF-Api-User` acts as a guest, who may not);
- `WEAK_KEY`: a user key without the permission: `403 {"errors": [{"code": "no_permission", ...}]}`.
An unknown or missing key is `401 api_key_not_found`; an unknown post or thread `404
requested_post_not_found` / `requested_thread_not_found`. Anything the fake does not implement, or that
modassist must never send (a hard delete, `XF-Api-User` with a user key), is kept in `unhandled` and
answered 400; `assert_clean` fails on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.serving import listen


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request: method, path, headers and parameters (query and form merged)."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]


@dataclass(slots=True)
class ForumState:
    """A post's and a thread's state on the fake forum."""

    posts: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> thread_id, message_state
    threads: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> discussion_open


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"errors": [{"code": code, "message": message, "params": []}]}, status=status)


class FakeXenForo:
    """The fake API; `start()` serves it, `base` is the forum's base URL (the API is at `base/api/`)."""

    KEY = "xf-user-key-0123456789abcdef"
    SUPER_KEY = "xf-super-key-0123456789abcdef"
    WEAK_KEY = "xf-weak-key-0123456789abcdef"
    SUPER_USER = 7  # the user a super-user key may act as

    def __init__(self) -> None:
        self.state = ForumState()
        self.calls: list[ApiCall] = []
        self.unhandled: list[str] = []
        self.base = ""
        self._runner: web.AppRunner | None = None

    def add_post(self, post_id: int, thread_id: int) -> None:
        """A visible post in an open thread."""
        self.state.posts[post_id] = {"thread_id": thread_id, "message_state": "visible"}
        self.state.threads.setdefault(thread_id, {"discussion_open": True})

    async def start(self) -> FakeXenForo:
        """Serve on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, port = await listen(app, shutdown_timeout=1.0)
        self.base = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    def assert_clean(self) -> None:
        """Fail if modassist sent something XenForo would refuse or the fake does not implement."""
        assert not self.unhandled, f"requests the fake XenForo refused: {self.unhandled}"

    def _refuse(self, request: web.Request, why: str) -> web.Response:
        self.unhandled.append(f"{request.method} {request.path}: {why}")
        return _error(400, "fake_refused", why)

    async def _handle(self, request: web.Request) -> web.Response:
        params = dict(request.query) | {k: str(v) for k, v in (await request.post()).items()}
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("xf-")}
        self.calls.append(ApiCall(request.method, request.path, headers, params))
        key, user = request.headers.get("XF-Api-Key"), request.headers.get("XF-Api-User")
        if key not in (self.KEY, self.SUPER_KEY, self.WEAK_KEY):
            return _error(401, "api_key_not_found", "API key provided in request was not found.")
        if user is not None and key != self.SUPER_KEY:
            return self._refuse(request, "XF-Api-User sent with a key that is not a super-user key")
        allowed = key == self.KEY or (key == self.SUPER_KEY and user == str(self.SUPER_USER))
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "api" or not parts[2].isdigit():
            return self._refuse(request, "no such route")
        if (request.method, parts[1]) == ("DELETE", "posts"):
            return self._delete_post(request, int(parts[2]), params, allowed)
        if (request.method, parts[1]) == ("POST", "threads"):
            return self._update_thread(request, int(parts[2]), params, allowed)
        return self._refuse(request, "no such route")

    def _delete_post(
        self, request: web.Request, post_id: int, params: dict[str, str], allowed: bool
    ) -> web.Response:
        post = self.state.posts.get(post_id)
        if post is None:
            return _error(404, "requested_post_not_found", "The requested post could not be found.")
        if params.get("hard_delete") not in ("false", "0"):
            return self._refuse(request, f"hard_delete={params.get('hard_delete')!r} (only soft deletes)")
        if params.get("author_alert", "true") not in ("true", "1") or (
            "author_alert_reason" in params and "author_alert" not in params
        ):
            return self._refuse(request, f"author_alert without its reason or the other way round: {params}")
        if not allowed:
            return _error(
                403, "no_permission", "You do not have permission to view this page or perform this action."
            )
        post["message_state"] = "deleted"
        post["reason"] = params.get("reason")
        return web.json_response({"success": True})

    def _update_thread(
        self, request: web.Request, thread_id: int, params: dict[str, str], allowed: bool
    ) -> web.Response:
        thread = self.state.threads.get(thread_id)
        if thread is None:
            return _error(404, "requested_thread_not_found", "The requested thread could not be found.")
        if set(params) != {"discussion_open"} or params["discussion_open"] not in ("false", "0"):
            return self._refuse(request, f"unexpected thread update {params}")
        if not allowed:
            return _error(
                403, "no_permission", "You do not have permission to view this page or perform this action."
            )
        thread["discussion_open"] = False
        return web.json_response(
            {"success": True, "thread": {"thread_id": thread_id, "discussion_open": False}}
        )
