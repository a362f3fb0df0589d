"""The limits Discord puts on a message payload (content, embeds, components), which the fake enforces."""

from __future__ import annotations

import re
from typing import Any

MESSAGE_ROUTES = re.compile(
    r"/channels/\d+/messages(/\d+)?|/interactions/\d+/[^/]+/callback|/webhooks/\d+/[^/]+(/messages/.+)?"
)


def message_problems(method: str, path: str, body: Any) -> list[str]:
    """What Discord would refuse in a message payload: its embed, component and content limits."""
    if method not in ("POST", "PATCH") or not MESSAGE_ROUTES.fullmatch(path) or not isinstance(body, dict):
        return []
    if path.endswith("/callback"):
        body = body.get("data") or {}
    problems = []
    if len(body.get("content") or "") > 2000:
        problems.append("content over 2000")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    total = 0
    for embed in embeds:
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            if len(embed.get(key) or "") > limit:
                problems.append(f"embed {key} over {limit}")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append("more than 25 fields")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                problems.append("an empty field")
            if len(f.get("name", "")) > 256 or len(f.get("value", "")) > 1024:
                problems.append("a field over its limit")
        footer = (embed.get("footer") or {}).get("text", "")
        author = (embed.get("author") or {}).get("name", "")
        if len(footer) > 2048 or len(author) > 256:
            problems.append("footer or author over its limit")
        url = embed.get("url")
        if url is not None and not re.match(r"https?://[^\s]+$", url):
            problems.append(f"embed url {url[:40]!r} is not a URL")
        total += (
            len(embed.get("title") or "") + len(embed.get("description") or "") + len(footer) + len(author)
        )
        total += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in fields)
    if total > 6000:
        problems.append(f"embeds total {total} over 6000")
    rows = body.get("components") or []
    if len(rows) > 5:
        problems.append("more than 5 rows")
    for row in rows:
        buttons = row.get("components") or []
        if len(buttons) > 5:
            problems.append("more than 5 buttons in a row")
        for b in buttons:
            if (
                len(b.get("custom_id") or "") > 100
                or len(b.get("label") or "") > 80
                or len(b.get("url") or "") > 512
            ):
                problems.append("a button over its limits")
    return problems
