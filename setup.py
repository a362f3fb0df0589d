"""Build of the optional C extensions; everything else about the project is in pyproject.toml.

`classifiers._shingles` speeds up the duplicated-quote detector and the off-topic detector's word reading,
`classifiers._linear` the inflammatory model's linear stage. Both are optional: when one cannot be built (no
compiler, no Python headers) the install still succeeds and classifiers/shingles.py,
classifiers/offtopic/words.py and classifiers/inflammatory/fused.py use their numpy and plain-Python paths,
which give the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "classifiers._shingles",
            sources=["classifiers/_shingles.c"],
            # No fused multiply-add: the off-topic loops must give the Python fallback's doubles exactly.
            extra_compile_args=["-O2", "-ffp-contract=off"],
            optional=True,
        ),
        Extension(
            "classifiers._linear",
            sources=["classifiers/_linear.c"],
            extra_compile_args=["-O2", "-ffp-contract=off"],  # the numpy path's doubles, exactly
            optional=True,
        ),
    ]
)
