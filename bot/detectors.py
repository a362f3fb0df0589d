"""Builds the detector suite from Settings (the one place where config meets the pure classifiers)."""

from __future__ import annotations

from bot.errors import ModassistError
from classifiers.duplicates import QuoteDuplicateDetector
from classifiers.inflammatory import InflammatoryDetector
from classifiers.offtopic import OffTopicDetector
from classifiers.persistence import ModelError
from classifiers.suite import DetectorSuite
from config.settings import Settings


class ModelLoadError(ModassistError):
    """A shipped or configured model file could not be loaded."""

    exit_code = 2


def build_suite(settings: Settings) -> DetectorSuite:
    """The three detectors with the thresholds and catch-all policy from `settings`."""
    thresholds = settings.thresholds
    policy = settings.catch_all
    try:
        detectors = [
            OffTopicDetector.load(
                settings.models.off_topic,
                catch_all_patterns=policy.title_patterns,
                catch_all_mode=policy.mode,
                catch_all_threshold=policy.threshold,
                catch_all_thread_ids=policy.thread_ids,
                flag_threshold=thresholds.off_topic,
                style=settings.off_topic.style,
            ),
            InflammatoryDetector.load(settings.models.inflammatory),
            # Evidence spans cost a second pass over the text: only for posts that reach the flag.
            QuoteDuplicateDetector(evidence_min_score=thresholds.duplicated_quote),
        ]
    except ModelError as exc:
        raise ModelLoadError(f"{exc}; check MODASSIST_MODELS__* or reinstall modassist") from exc
    return DetectorSuite(detectors, thresholds.model_dump())
