"""Start cnnviz: `python main.py` does what the `cnnviz` command does."""

import sys

from cnnviz.cli import main

if __name__ == "__main__":
    sys.exit(main())
