"""``python -m sim.cli``: the command line, as ``airpicture`` runs it."""
import sys

from sim.cli import main

sys.exit(main())
