"""Test set-up: pytest's importlib mode puts no test folder on sys.path, so the shared
in-memory chain helper (tests/unit/framework/testchain.py) is made importable here."""

import sys
from pathlib import Path

_HELPERS = str(Path(__file__).resolve().parent.parent / "framework")
if _HELPERS not in sys.path:
    sys.path.insert(0, _HELPERS)
