"""``python -m wamp_twisted``: the command line (see wamp_twisted.cli)."""

import sys

from wamp_twisted.cli import main

sys.exit(main())
