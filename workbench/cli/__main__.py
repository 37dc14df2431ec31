"""``python -m workbench.cli``: the same as the ``prefix-workbench`` command."""

import sys

from . import main

sys.exit(main())
