"""``python -m jobpack``: the same as the ``jobpack`` command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
