"""The native core's boundary: the mode switch, and panics turned into errors."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from libra import _core


def test_a_panic_in_rust_is_a_core_error_not_a_crash() -> None:
    with pytest.raises(_core.CoreError, match="native core panicked: boom"):
        _core._panic_for_tests("boom")
    # the interpreter (and the module) keep working after the panic
    assert _core.sha3_256(b"abc") == hashlib.sha3_256(b"abc").digest()


def test_core_error_is_an_ordinary_exception() -> None:
    # a node's `except Exception` handlers must see it (pyo3's PanicException is a BaseException)
    assert issubclass(_core.CoreError, RuntimeError)


def _mode_in_subprocess(value: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("LIBRA_CORE", None)
    if value is not None:
        env["LIBRA_CORE"] = value
    code = "from libra import native; print(native.mode(), native.CORE is not None)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("value", "printed"), [(None, "native True"), ("native", "native True"), ("python", "python False"), (" Python ", "python False")]
)
def test_libra_core_selects_the_path(value: str | None, printed: str) -> None:
    result = _mode_in_subprocess(value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == printed


def test_an_unknown_mode_is_refused_by_name() -> None:
    result = _mode_in_subprocess("fast")
    assert result.returncode != 0
    assert "LIBRA_CORE='fast' is not one of: native, python" in result.stderr
