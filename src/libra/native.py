"""Which implementation runs the per-payment path: the native core or the Python reference.

The Python framework is the executable specification; ``libra._core`` (the Rust crate in
``core/``, built by ``make venv``) is the fast path and must agree with it byte for byte.
``LIBRA_CORE`` chooses, for the whole process:

* ``native`` (the default): the hot paths call ``libra._core``;
* ``python``: everything runs on the reference path (debugging, differential tests).

This module sits below every layer (it imports nothing of ``libra``), so each layer asks
it for the core where that layer owns the job.
"""

from __future__ import annotations

import os
from types import ModuleType

ENV_VAR = "LIBRA_CORE"
MODES = ("native", "python")


class CoreUnavailable(RuntimeError):
    """``LIBRA_CORE`` names no known mode, or asks for the native core when it is not built."""


def mode() -> str:
    """The mode ``LIBRA_CORE`` selects (``native`` when unset or empty)."""
    value = os.environ.get(ENV_VAR, "").strip().lower() or "native"
    if value not in MODES:
        raise CoreUnavailable(f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not one of: {', '.join(MODES)}")
    return value


def _load() -> ModuleType | None:
    if mode() == "python":
        return None
    try:
        from libra import _core
    except ImportError as exc:
        raise CoreUnavailable(
            f"the native core libra._core is not built ({exc}); run `make venv`, or set {ENV_VAR}=python"
        ) from None
    return _core


CORE: ModuleType | None = _load()
"""``libra._core`` when the native path is on, None on the reference path."""
