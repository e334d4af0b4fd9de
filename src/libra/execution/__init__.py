"""Block execution: parallel signature checks, then the framework's rules in order."""

from libra.crypto.transaction_signature import verify_transaction_signature
from libra.execution.executor import (
    BlockOutput,
    Discarded,
    TransactionOutput,
    TransactionStatus,
    execute_block,
)
from libra.framework.state import DecodedAccounts, InMemoryStateView, StateView

__all__ = [
    "BlockOutput",
    "DecodedAccounts",
    "Discarded",
    "InMemoryStateView",
    "StateView",
    "TransactionOutput",
    "TransactionStatus",
    "execute_block",
    "verify_transaction_signature",
]
