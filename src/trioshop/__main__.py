"""``python -m trioshop``: the same as the ``trioshop`` command."""

import sys

from ._cli import main

sys.exit(main())
