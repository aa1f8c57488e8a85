"""``python -m f5quilt``: the shell-prompt queries without click (fastpath.py), else the command line."""
import sys

from .fastpath import main

if __name__ == "__main__":
    sys.exit(main())
