"""Block execution: parallel signature checks, then the framework's rules in order (the
common payments in the native core when it is on)."""

from libra.crypto.transaction_signature import verify_transaction_signature
from libra.execution.executor import execute_block
from libra.execution.native_accounts import NativeDecodedAccounts, new_decoded_accounts
from libra.execution.outputs import BlockOutput, Discarded, TransactionOutput, TransactionStatus
from libra.framework.state import DecodedAccounts, InMemoryStateView, StateView

__all__ = [
    "BlockOutput",
    "DecodedAccounts",
    "Discarded",
    "InMemoryStateView",
    "NativeDecodedAccounts",
    "StateView",
    "TransactionOutput",
    "TransactionStatus",
    "execute_block",
    "new_decoded_accounts",
    "verify_transaction_signature",
]
