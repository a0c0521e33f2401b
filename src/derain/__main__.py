"""``python -m derain`` runs the CLI."""

import sys

from derain.cli import main

sys.exit(main())
