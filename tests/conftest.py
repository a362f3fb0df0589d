"""Settings shared by the whole suite."""

import os

from hypothesis import settings
from threadpoolctl import threadpool_limits

# One BLAS thread per process. pytest-xdist already runs one worker per core, and OpenBLAS's threads spin
# while they wait: with two workers on two cores they fought each other and the sentence encoder's tests ran
# four times slower. Set here, before the workers and the commands the tests start inherit the environment;
# `threadpool_limits` covers a numpy this process has already loaded. (Results do not depend on it: BLAS
# splits a product's rows and columns between its threads, not the sums.)
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
threadpool_limits(1)

# No per-example time limit: Hypothesis's default 200 ms deadline is a timing assertion, and on a busy CI
# machine it fails tests whose results are right. Speed is measured by the scripts in benchmarks/, not here.
settings.register_profile("modassist", deadline=None)
settings.load_profile("modassist")
