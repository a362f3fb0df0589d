"""XenForo's REST API, for acting on a forum post from its alert: soft-delete the post, lock its thread.

`XenForoApi` holds the API keys per forum base URL (`bot.xenforo_api_keys`; `bot.xenforo_api_users` for a
super-user key, which acts as that user) and sends, through the guarded connector of `bot.sources.fetch`:

- `DELETE {base}/api/posts/{id}` with `hard_delete=false`, `reason`, and optionally `author_alert` and
  `author_alert_reason`;
- `POST {base}/api/threads/{id}` with `discussion_open=false`;

with the headers `XF-Api-Key` and (super-user key) `XF-Api-User`. A 2xx answer is done (True), a 404 is
"not there" (False), anything else is a `ForumApiError` naming XenForo's error code in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import ForumApiError
from bot.sources.fetch import DEFAULT_TIMEOUT, guarded_connector, user_agent


@dataclass(frozen=True, slots=True)
class ForumApiAccess:
    """Where a forum's API is and how to call it."""

    base: str
    key: str
    user_id: int | None


class XenForoApi:
    """Calls to the XenForo REST API of the forums with a configured key."""

    def __init__(
        self,
        keys: Mapping[str, str],
        users: Mapping[str, int] | None = None,
        *,
        allow_private: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._keys = {base.rstrip("/"): key for base, key in keys.items()}
        self._users = {base.rstrip("/"): user for base, user in (users or {}).items()}
        self._allow_private = allow_private
        self._timeout = timeout

    def access(self, url: str | None) -> ForumApiAccess | None:
        """The API of the forum `url` (a post's or thread's page) is on: the longest configured base URL it
        starts with; None when no key is configured for it."""
        if not url:
            return None
        bases = [b for b in self._keys if url.lower().startswith(b.lower() + "/")]
        if not bases:
            return None
        base = max(bases, key=len)
        return ForumApiAccess(base, self._keys[base], self._users.get(base))

    async def soft_delete_post(
        self, access: ForumApiAccess, post_id: int, *, reason: str, author_alert: str | None = None
    ) -> bool:
        """Soft-delete the post (`author_alert`: tell its author why); False when XenForo has no such post."""
        params = {"hard_delete": "false", "reason": reason}
        if author_alert is not None:
            params |= {"author_alert": "true", "author_alert_reason": author_alert}
        return await self._send("DELETE", access, f"posts/{post_id}", params)

    async def lock_thread(self, access: ForumApiAccess, thread_id: int) -> bool:
        """Close the thread to replies; False when XenForo has no such thread."""
        return await self._send("POST", access, f"threads/{thread_id}", {"discussion_open": "false"})

    async def _send(self, method: str, access: ForumApiAccess, path: str, params: dict[str, str]) -> bool:
        import aiohttp  # only the bot needs it

        headers = {"XF-Api-Key": access.key, "User-Agent": user_agent(), "Accept": "application/json"}
        if access.user_id is not None:
            headers["XF-Api-User"] = str(access.user_id)
        url = f"{access.base}/api/{path}"
        connector = guarded_connector(allow_private=self._allow_private)
        try:
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.request(
                    method,
                    url,
                    data=params,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self._timeout),
                    allow_redirects=False,
                ) as response,
            ):
                if 200 <= response.status < 300:
                    return True
                if response.status == 404:
                    return False
                body = await response.json(content_type=None) if response.content_length != 0 else None
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise ForumApiError(f"The forum's API at {access.base} could not be reached ({exc}).") from None
        raise ForumApiError(_refusal(response.status, body))


def _refusal(status: int, body: Any) -> str:
    """XenForo's refusal in one line: its first error's code and message."""
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code, message = first.get("code"), first.get("message")
    if status == 403 or code == "no_permission":
        return f"XenForo refused: the API key may not do this ({code or 'HTTP 403'})."
    detail = f"{code}: {message}" if code else f"HTTP {status}"
    return f"XenForo refused ({detail})."
