"""`python -m lab`: the same as the `modassist-lab` console script."""

import sys

from lab.cli import main

sys.exit(main())
