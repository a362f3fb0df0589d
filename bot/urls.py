"""What counts as a web address, in one place: an http(s) URL with a host name.

Used where a URL is shown as a link (`bot.discord.markup.safe_url`), fetched (`bot.sources.fetch`) and
watched (`bot.watchers.state.parse_target`). Whether its host may be fetched (public addresses only) is
`bot.sources.addresses`. The settings check their own URLs the same way (`config` imports nothing of ours).
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

WEB_SCHEMES = ("http", "https")


def web_url(value: str) -> SplitResult | None:
    """`value` split into its parts if it is an http(s) URL with a host name, else None (never raises)."""
    try:
        parts = urlsplit(value)
        host = parts.hostname  # may raise for a malformed port or IPv6 literal
    except ValueError:
        return None
    if parts.scheme.lower() not in WEB_SCHEMES or not host:
        return None
    return parts
