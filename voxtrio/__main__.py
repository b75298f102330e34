"""``python -m voxtrio``: the command line (see `voxtrio.cli`)."""

import sys

from voxtrio.cli import main

if __name__ == "__main__":
    sys.exit(main())
