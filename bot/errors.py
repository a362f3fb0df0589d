"""modassist's errors, all defined here except the three noted below.

ModassistError            anything a user can act on; printed as one line, never a traceback
├── ParseError            input that is not in a format we read (exit status 2)
├── ConfigError           settings that cannot work together (exit 2)
├── DataError             data too small or one-sided to measure or fit (also a ValueError; exit 2)
├── ModelLoadError        a shipped or configured model file could not be loaded (exit 2)
├── CommandError          a moderator command used in a way that cannot work (said back in Discord)
├── ForumApiError         a forum's API refused an action on a post or thread, or could not be reached
├── WatchError            a poll of a watched page gave no usable page
│   ├── FetchError        the request failed: network, timeout, an HTTP status other than 200 and 304
│   └── PageError         the answer is not a whole thread page
└── StoreError            a store operation that cannot be done as asked
    ├── RecordNotFoundError      no such flag, post, alert or watch
    ├── AlreadyDecidedError      a flag a moderator has already confirmed or dismissed
    ├── DatabaseCorruptError     the database file fails SQLite's integrity check, or is no database (exit 2)
    ├── SchemaTooNewError        the database was written by a newer modassist (exit 2)
    ├── DatabaseUnwritableError  read-only file or directory, full disk, failed write (exit 2)
    └── MigrationError           a migration failed (in bot/migrations/runner.py: it carries the migration)

Outside the tree, on purpose:
- DeliveryError (an Exception): a sink could not deliver an alert; the dispatcher retries it, no user sees it.
- classifiers.persistence.ModelError: classifiers import nothing of bot; `bot.detectors` turns it into a
  ModelLoadError.
- bot.sources.addresses.PrivateAddressError (an OSError, so that the HTTP client treats it as a refused
  connection): a URL that leads to a non-public address.
"""

from __future__ import annotations

from datetime import datetime


class ModassistError(Exception):
    """An error the user can act on. `exit_code` is the command line's exit status for it."""

    exit_code = 1


class ParseError(ModassistError):
    """Input that modassist cannot read; names the source and what was expected."""

    exit_code = 2

    def __init__(self, source: str, expected: str, detail: str = "") -> None:
        self.source = source
        self.expected = expected
        self.detail = detail
        message = f"{source}: expected {expected}"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class ConfigError(ModassistError):
    """Settings that cannot work."""

    exit_code = 2


class DataError(ModassistError, ValueError):
    """Labelled data that cannot be measured or fitted: too few rows, or only one label."""

    exit_code = 2


class StoreError(ModassistError):
    """A store operation that cannot be done as asked."""


class DatabaseCorruptError(StoreError):
    """The database file is damaged (or not an SQLite database at all); nothing is read or written."""

    exit_code = 2

    def __init__(self, path: str, detail: str, *, not_a_database: bool = False) -> None:
        self.path = path
        self.detail = detail
        if not_a_database:
            message = (
                f"{path}: not an SQLite database ({detail});"
                " check the path, or restore the file from a backup"
            )
        else:
            message = (
                f"{path}: the database is corrupted ({detail}); restore it from a backup"
                " (`modassist db backup` makes one), or move it aside to start an empty one"
            )
        super().__init__(message)


class SchemaTooNewError(StoreError):
    """The database's schema is newer than any migration this modassist knows."""

    exit_code = 2

    def __init__(self, path: str, version: int, newest: int) -> None:
        self.path = path
        self.version = version
        self.newest = newest
        super().__init__(
            f"{path}: schema version {version}, but this modassist knows versions up to {newest}: the file"
            " was written by a newer modassist; upgrade modassist or use another database file"
        )


class DatabaseUnwritableError(StoreError):
    """The database cannot be opened or written: `reason` says why, `advice` what to do."""

    exit_code = 2

    def __init__(self, path: str, reason: str, advice: str) -> None:
        self.path = path
        self.reason = reason
        self.advice = advice
        super().__init__(f"{path}: {reason}; {advice}")


class ModelLoadError(ModassistError):
    """A shipped or configured model file could not be loaded."""

    exit_code = 2


class CommandError(ModassistError):
    """A command used in a way that cannot work; the message tells the moderator what to do instead."""


class ForumApiError(ModassistError):
    """A forum's API (XenForo's) refused an action or could not be reached; the message says why in one
    line."""


class WatchError(ModassistError):
    """A poll that gave no usable page."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        self.detail = detail
        super().__init__(f"{url}: {detail}")


class FetchError(WatchError):
    """The request failed: network, timeout, or an HTTP status other than 200 and 304."""

    def __init__(
        self, url: str, detail: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(url, detail)


class PageError(WatchError):
    """The answer is not a whole thread page."""


class RecordNotFoundError(StoreError):
    """No `kind` with id `key` in the store."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")


class AlreadyDecidedError(StoreError):
    """Flag `flag_id` was already settled (`status`: confirmed or dismissed) by `by` at `at` (UTC)."""

    def __init__(self, flag_id: int, status: str, by: str | None, at: datetime | None) -> None:
        self.flag_id = flag_id
        self.status = status
        self.by = by
        self.at = at
        when = f" on {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
        super().__init__(
            f"flag {flag_id} was already {status} by {by or 'an unknown moderator'}{when}; nothing changed"
        )


class DeliveryError(Exception):
    """A sink could not deliver an alert.

    `retry_after`: seconds the receiver asked to wait (a rate limit); `permanent`: retrying cannot help
    (no access to the channel, say), so the alert is marked 'failed' at once.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        self.retry_after = retry_after
        self.permanent = permanent
        super().__init__(message)
