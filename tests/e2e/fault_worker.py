"""`modassist run` as a process with the e2e phrase detectors plus one that raises on posts saying 'kaboom':
for the fault tests (a detector failing inside the real process). Settings come from the environment."""

from __future__ import annotations

import asyncio
import sys

from bot.runtime import serve
from classifiers.suite import DetectorSuite
from config.settings import Settings
from tests.e2e.doubles import ExplodingDetector, make_suite


def main() -> int:
    """Run until a signal; the exit status is serve's."""
    phrases = make_suite()
    suite = DetectorSuite([*phrases.detectors, ExplodingDetector("duplicated_quote", batch=False)])
    return asyncio.run(serve(Settings(), suite))


if __name__ == "__main__":
    sys.exit(main())
