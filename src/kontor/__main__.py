"""`python -m kontor` is the `kontor` command."""

import sys

from kontor.cli import main

sys.exit(main())
