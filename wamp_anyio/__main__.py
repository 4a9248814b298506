"""``python -m wamp_anyio``: the command line (see wamp_anyio.cli)."""

import sys

from wamp_anyio.cli import main

sys.exit(main())
