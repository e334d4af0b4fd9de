# Types of the native core (core/pybind/src/lib.rs); keep in step with the Rust signatures.

__version__: str

class CoreError(RuntimeError): ...

def sha3_256(data: bytes) -> bytes: ...
def _panic_for_tests(message: str) -> None: ...

# transaction.rs: the common signed transaction (script function, one Ed25519 key)
TypeArgFields = int | tuple[bytes, str, str]
CommonTransactionFields = tuple[
    bytes, int, bytes, str, str, list[TypeArgFields], list[bytes], int, int, str, int, int, bytes, bytes, int, int, int
]

def decode_common_transaction(data: bytes, pos: int) -> CommonTransactionFields | None: ...
def user_transaction_hash(signed: bytes) -> bytes: ...

# views.rs: JSON-RPC views of committed transactions
def transaction_view_json(version: int, data: bytes, info: bytes) -> str | None: ...
