"""Settings shared by the whole suite."""

from hypothesis import settings

# No per-example time limit: Hypothesis's default 200 ms deadline is a timing assertion, and on a busy CI
# machine it fails tests whose results are right. Speed is measured by the scripts in benchmarks/, not here.
settings.register_profile("modassist", deadline=None)
settings.load_profile("modassist")
