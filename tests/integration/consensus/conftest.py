"""The consensus tests share ``load_helpers.py`` (pytest runs with ``--import-mode=importlib``),
so this folder goes on ``sys.path``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
