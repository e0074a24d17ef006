"""``python -m jupyterhub_ov_sim``: the simulator's command line (see ``cli``)."""

import sys

from .cli import main

sys.exit(main())
