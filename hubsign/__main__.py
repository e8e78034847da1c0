"""`python -m hubsign` and `python dist/hubsign.pyz`."""

import sys

from hubsign.cli import main

sys.exit(main())
