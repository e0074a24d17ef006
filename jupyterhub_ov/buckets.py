"""Where the notebook server's start-up configuration for the buckets in the file browser is.

The file itself (``jupyter-config/jupyter_server_config.py``) is standalone: the S3-aware
images copy it, local mode's spawner names its directory in ``JUPYTER_CONFIG_PATH``.
"""

from __future__ import annotations

import os

#: the directory holding jupyter_server_config.py, for ``JUPYTER_CONFIG_PATH``
JUPYTER_CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jupyter-config")
#: the start-up configuration file itself (one source for local environments and images)
SERVER_CONFIG_FILE = os.path.join(JUPYTER_CONFIG_DIR, "jupyter_server_config.py")
