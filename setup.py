"""Build of the optional C extensions; everything else about the project is in pyproject.toml.

`classifiers._shingles` speeds up the duplicated-quote detector and the off-topic detector's word reading,
`classifiers._linear` the inflammatory model's linear stage. Both are optional: when one cannot be built (no
compiler, no Python headers) the install still succeeds and classifiers/shingles.py,
classifiers/offtopic/words.py and classifiers/inflammatory/fused.py use their numpy and plain-Python paths,
which give the same results.
"""

from setuptools import Extension, setup

# No fused multiply-add: the loops must give the Python and numpy fallbacks' doubles exactly.
EXACT = ["-O2", "-ffp-contract=off"]

setup(
    ext_modules=[
        Extension(
            "classifiers._shingles",
            sources=["classifiers/_shingles.c"],
            extra_compile_args=EXACT,
            optional=True,
        ),
        Extension(
            "classifiers._linear",
            sources=["classifiers/_linear.c"],
            extra_compile_args=EXACT,
            optional=True,
        ),
    ]
)
