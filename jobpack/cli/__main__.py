"""``python -m jobpack.cli``: the same as ``python -m jobpack``."""
import sys

from . import main

sys.exit(main())
