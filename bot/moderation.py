"""The moderators' use cases, written once and called by Discord and the command line alike.

Thresholds: a moderator's change (`/modq thresholds`) is stored as a setting override, audited, and applied
to the running suite at once; `apply_threshold_overrides` applies the stored ones to a suite built from
Settings, so every process that reviews posts into a store (`modassist run`, with or without Discord, and
`modassist scan --db`) judges by the moderators' thresholds, not by the config's.
"""

from __future__ import annotations

import logging

from bot.store import Store
from classifiers.result import Category
from classifiers.suite import DetectorSuite

log = logging.getLogger(__name__)

_THRESHOLD_PREFIX = "thresholds."


def threshold_key(category: str) -> str:
    """The setting-override key of a category's threshold ('thresholds.inflammatory')."""
    return f"{_THRESHOLD_PREFIX}{category}"


async def change_threshold(
    store: Store,
    suite: DetectorSuite,
    category: Category,
    value: float,
    *,
    actor_id: int | None,
    actor_name: str | None,
) -> float:
    """Change a category's threshold now and for every later start (audited); returns the old value."""
    old = suite.thresholds[category]
    await store.change_setting(threshold_key(category), value, actor_id=actor_id, actor_name=actor_name)
    suite.set_threshold(category, value)
    log.warning("threshold %s changed from %.2f to %.2f by %s", category, old, value, actor_id)
    return old


async def apply_threshold_overrides(store: Store, suite: DetectorSuite) -> dict[str, float]:
    """Apply the thresholds moderators changed (stored in `store`) to `suite`; returns those applied."""
    applied: dict[str, float] = {}
    for key, value in (await store.setting_overrides()).items():
        category = key.removeprefix(_THRESHOLD_PREFIX)
        if (
            key.startswith(_THRESHOLD_PREFIX)
            and category in suite.thresholds
            and isinstance(value, int | float)
        ):
            suite.set_threshold(category, float(value))
            applied[category] = float(value)
    if applied:
        log.info("thresholds changed at run time: %s", applied)
    return applied
