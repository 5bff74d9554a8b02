"""``python -m s1flood``: the command line."""

import sys

from s1flood.cli import main

sys.exit(main())
