"""Builds the detector suite from the settings (the one place where config meets the pure classifiers)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ModelLoadError as ModelLoadError  # defined with the others
from classifiers.duplicates import QuoteDuplicateDetector
from classifiers.inflammatory import InflammatoryDetector
from classifiers.offtopic import OffTopicDetector
from classifiers.persistence import ModelError
from classifiers.result import Category
from classifiers.suite import Detector, DetectorSuite

if TYPE_CHECKING:
    from config.settings import Settings


def build_suite(settings: Settings) -> DetectorSuite:
    """The three detectors with the thresholds and catch-all policy from `settings`."""
    return suite_from_values(settings.model_dump(mode="json"))


def suite_from_values(values: Mapping[str, Any]) -> DetectorSuite:
    """The three detectors from the settings as JSON values (`Settings.model_dump(mode="json")`, or
    `config.defaults.settings_values()`, which needs no pydantic when nothing configures modassist)."""
    thresholds = values["thresholds"]
    policy = values["catch_all"]
    models = values["models"]
    try:
        detectors: list[Detector] = [
            OffTopicDetector.load(
                _path(models["off_topic"]),
                catch_all_patterns=policy["title_patterns"],
                catch_all_mode=policy["mode"],
                catch_all_threshold=policy["threshold"],
                catch_all_thread_ids=policy["thread_ids"],
                flag_threshold=thresholds["off_topic"],
                style=values["off_topic"]["style"],
            ),
            # Reasons (which words raised the score) cost many model calls: only near the flag threshold.
            InflammatoryDetector.load(
                _path(models["inflammatory"]), threshold=thresholds["inflammatory"], explain_from=0.9
            ),
            # Evidence spans cost a second pass over the text: only for posts that reach the flag.
            QuoteDuplicateDetector(evidence_min_score=thresholds["duplicated_quote"]),
        ]
    except ModelError as exc:
        raise ModelLoadError(f"{exc}; check MODASSIST_MODELS__* or reinstall modassist") from exc
    by_category: dict[Category, float] = {
        "off_topic": thresholds["off_topic"],
        "inflammatory": thresholds["inflammatory"],
        "duplicated_quote": thresholds["duplicated_quote"],
    }
    return DetectorSuite(detectors, by_category, max_post_chars=values["review"]["max_post_chars"])


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value)
