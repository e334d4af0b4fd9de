"""Fixtures of the consensus tests.

pytest runs with ``--import-mode=importlib``, which puts no test folder on ``sys.path``;
the test modules here share ``consensus_helpers.py``, so put this folder there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from consensus_helpers import Committee  # noqa: E402


@pytest.fixture
def committee() -> Committee:
    return Committee()
