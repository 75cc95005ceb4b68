"""``python -m tfsnorkel``: the same as the ``tfsnorkel`` command."""

import sys

from tfsnorkel.cli import main

sys.exit(main())
