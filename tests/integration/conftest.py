"""Integration tests share helper modules of this folder (``link_proxy.py``).

pytest runs with ``--import-mode=importlib``, so this folder goes on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
