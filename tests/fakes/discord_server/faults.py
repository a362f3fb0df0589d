"""What happens to every REST request before its route: recording, injected failures (`fail`), held answers
(`hold`), payloads Discord would refuse, and the bot token check."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.discord_server.records import (
    API,
    BODY,
    CDN_PATH,
    GATEWAY_PATH,
    TOKEN,
    Failure,
    Recorded,
    json_response,
)
from tests.fakes.discord_server.state import DiscordState
from tests.fakes.discord_server.validation import message_problems


class Faults(DiscordState):
    """The middleware of the fake, and the test controls that script it."""

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: float = 1.0,
        body: dict[str, Any] | None = None,
        is_global: bool = False,
        via: bool = True,
    ) -> None:
        """Answer the next `times` requests matching `method` and the `path` regex (after /api/v10) with
        `status`: 429 as a Discord rate limit (or, with via=False, as a proxy's), 403/404 with Discord's
        error JSON."""
        self._failures.append(
            Failure(method, re.compile(path), status, times, retry_after, body, is_global, via)
        )

    def hold(self, method: str, path: str, *, skip: int = 0) -> asyncio.Event:
        """Let `skip` matching requests through, then handle the next one but answer it only once the returned
        event is set (or at close)."""
        event = asyncio.Event()
        self._holds.append((method, re.compile(path), [skip], event))
        self._held_events.append(event)
        return event

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path == GATEWAY_PATH or request.path.startswith(CDN_PATH):
            return await handler(request)
        body: Any = None
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                raw = form.get("payload_json")
                body = json.loads(raw) if isinstance(raw, str) else None
            else:
                text = await request.text()
                body = json.loads(text) if text else None
        record = Recorded(
            request.method,
            request.path,
            dict(request.query),
            body,
            dict(request.headers),
            time.perf_counter(),
        )
        request[BODY] = body
        self.requests.append(record)
        try:
            failure = self._failure_for(request.method, request.path.removeprefix(API))
            if failure is not None:
                response = self._failure_response(failure)
            elif problems := message_problems(request.method, request.path.removeprefix(API), body):
                self.invalid.append(f"{request.method} {request.path}: {problems}")
                response = json_response(
                    {"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400
                )
            else:
                if request.headers.get("Authorization") != f"Bot {TOKEN}" and not request.path.startswith(
                    (API + "/webhooks/", API + "/interactions/")
                ):
                    response = json_response({"message": "401: Unauthorized", "code": 0}, 401)
                else:
                    response = await handler(request)
                held = self._held(request.method, request.path.removeprefix(API))
                if held is not None:
                    await self._notify()  # the request has arrived (and been handled): tell waiters
                    await held.wait()
            return response
        finally:
            await self._notify()

    def _failure_for(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.pattern.fullmatch(path) and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def _held(self, method: str, path: str) -> asyncio.Event | None:
        for index, (m, pattern, skip, event) in enumerate(self._holds):
            if m == method and pattern.fullmatch(path):
                if skip[0] > 0:
                    skip[0] -= 1
                    return None
                del self._holds[index]
                return event
        return None

    def _failure_response(self, failure: Failure) -> web.Response:
        if failure.status == 429:
            body = failure.body or {
                "message": "You are being rate limited.",
                "retry_after": failure.retry_after,
                "global": failure.is_global,
                "code": 0,
            }
            headers = {
                "Retry-After": str(max(1, round(failure.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + failure.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "global" if failure.is_global else "user",
            }
            if failure.is_global:
                headers["X-RateLimit-Global"] = "true"
            if failure.via:
                headers["Via"] = "1.1 google"
            return json_response(body, 429, headers)
        defaults = {
            403: {"message": "Missing Permissions", "code": 50013},
            404: {"message": "Unknown Channel", "code": 10003},
            400: {"message": "Invalid Form Body", "code": 50035},
        }
        return json_response(
            failure.body or defaults.get(failure.status, {"message": "error", "code": 0}), failure.status
        )
