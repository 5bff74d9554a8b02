"""``python -m s1flood.cli``."""

import sys

from s1flood.cli import main

sys.exit(main())
