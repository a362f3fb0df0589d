"""Builds the detector suite from Settings (the one place where config meets the pure classifiers)."""

from __future__ import annotations

from bot.errors import ModelLoadError as ModelLoadError  # defined with the others
from classifiers.duplicates import QuoteDuplicateDetector
from classifiers.inflammatory import InflammatoryDetector
from classifiers.offtopic import OffTopicDetector
from classifiers.persistence import ModelError
from classifiers.result import Category
from classifiers.suite import Detector, DetectorSuite
from config.settings import Settings


def build_suite(settings: Settings) -> DetectorSuite:
    """The three detectors with the thresholds and catch-all policy from `settings`."""
    thresholds = settings.thresholds
    policy = settings.catch_all
    try:
        detectors: list[Detector] = [
            OffTopicDetector.load(
                settings.models.off_topic,
                catch_all_patterns=policy.title_patterns,
                catch_all_mode=policy.mode,
                catch_all_threshold=policy.threshold,
                catch_all_thread_ids=policy.thread_ids,
                flag_threshold=thresholds.off_topic,
                style=settings.off_topic.style,
            ),
            # Reasons (which words raised the score) cost many model calls: only near the flag threshold.
            InflammatoryDetector.load(
                settings.models.inflammatory, threshold=thresholds.inflammatory, explain_from=0.9
            ),
            # Evidence spans cost a second pass over the text: only for posts that reach the flag.
            QuoteDuplicateDetector(evidence_min_score=thresholds.duplicated_quote),
        ]
    except ModelError as exc:
        raise ModelLoadError(f"{exc}; check MODASSIST_MODELS__* or reinstall modassist") from exc
    by_category: dict[Category, float] = {
        "off_topic": thresholds.off_topic,
        "inflammatory": thresholds.inflammatory,
        "duplicated_quote": thresholds.duplicated_quote,
    }
    return DetectorSuite(detectors, by_category, max_post_chars=settings.review.max_post_chars)
