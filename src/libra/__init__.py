"""Libra in Python: a Diem-compatible, BFT-replicated payment ledger."""

__version__ = "0.1.0"
