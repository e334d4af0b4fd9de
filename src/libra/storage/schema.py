"""Key layout of the ledger store: one-byte table prefix, then big-endian fields.

Big-endian integers make byte order equal numeric order, so ranges of versions,
sequence numbers and stale-node indices are contiguous key ranges::

    table  key (after the prefix byte)                 value
    -----  ------------------------------------------  --------------------------------------
     M     name (ascii)                                 metadata:
                                                          M"next"   u64be next version to commit
                                                          M"li"     latest LedgerInfoWithSignatures
                                                          M"pruned" u64be oldest readable state version
                                                          M"stale"  u64be stale-index position pruned up to
     T     version u64be                                transaction BCS (opaque)
     I     version u64be                                TransactionInfo BCS
     W     version u64be                                write set BCS (opaque, may be empty)
     E     version u64be | index u32be                  event key(24) | seq u64be | event BCS
     K     event key(24) | seq u64be                    version u64be | index u32be
     Q     sender(16) | seq u64be                       version u64be
     A     level u8 | index u64be                       accumulator node hash(32) (frozen nodes only)
     N     version u64be | nibble count u8 | nibbles    state tree node (see jellyfish.py): every version's
                                                        leaves, internal nodes only at block ends
     S     stale since u64be                            N-keys, concatenated, of the nodes no longer needed
                                                        from that version (an N-key's length follows from
                                                        its nibble count); stores written before this
                                                        layout hold one ``S | since | N-key -> b""`` per node
     L     epoch u64be                                  last LedgerInfoWithSignatures of the epoch
    -----  ------------------------------------------  --------------------------------------
"""

from __future__ import annotations

import struct

META = b"M"
TRANSACTION = b"T"
TRANSACTION_INFO = b"I"
WRITE_SET = b"W"
EVENT = b"E"
EVENT_BY_KEY = b"K"
ACCOUNT_SEQUENCE = b"Q"
ACCUMULATOR = b"A"
NODE = b"N"
STALE = b"S"
EPOCH_LEDGER_INFO = b"L"

TABLES = (TRANSACTION, TRANSACTION_INFO, WRITE_SET, EVENT, EVENT_BY_KEY, ACCOUNT_SEQUENCE, ACCUMULATOR, NODE, STALE,
          EPOCH_LEDGER_INFO)
"""The tables a RocksDB store keeps in column families of their own (``M`` stays in the default)."""

META_NEXT_VERSION = META + b"next"
META_LATEST_LEDGER_INFO = META + b"li"
META_PRUNED = META + b"pruned"
META_STALE_CURSOR = META + b"stale"

_U64 = struct.Struct(">Q")
_U64_U32 = struct.Struct(">QI")
_U8_U64 = struct.Struct(">BQ")

u64_bytes = _U64.pack


def read_u64(data: bytes, offset: int = 0) -> int:
    value: int = _U64.unpack_from(data, offset)[0]
    return value


def version_key(table: bytes, version: int) -> bytes:
    return table + _U64.pack(version)


def event_key(version: int, index: int) -> bytes:
    return EVENT + _U64_U32.pack(version, index)


def event_by_key_key(event_key_bytes: bytes, sequence_number: int) -> bytes:
    return EVENT_BY_KEY + event_key_bytes + _U64.pack(sequence_number)


def account_sequence_key(address: bytes, sequence_number: int) -> bytes:
    return ACCOUNT_SEQUENCE + address + _U64.pack(sequence_number)


def accumulator_key(level: int, index: int) -> bytes:
    return ACCUMULATOR + _U8_U64.pack(level, index)


def epoch_ledger_info_key(epoch: int) -> bytes:
    return EPOCH_LEDGER_INFO + _U64.pack(epoch)


def stale_key(stale_since: int) -> bytes:
    """The stale-index entry of a version: one per version, listing every node it replaced."""
    return STALE + _U64.pack(stale_since)


def stale_node_keys(key: bytes, value: bytes) -> list[bytes]:
    """The N-keys a stale-index entry lists (either layout, see the table above)."""
    if len(key) > 9:  # the older layout: one node per entry, in the key
        return [key[9:]]
    keys = []
    position = 0
    while position < len(value):
        # N | version u64be | nibble count u8 | nibbles packed two per byte
        end = position + 10 + (value[position + 9] + 1) // 2
        if value[position : position + 1] != NODE or end > len(value):
            raise ValueError(f"corrupt stale-index entry {key.hex()}")
        keys.append(value[position:end])
        position = end
    return keys


def unpack_version_index(data: bytes) -> tuple[int, int]:
    version, index = _U64_U32.unpack(data)
    return version, index


def pack_version_index(version: int, index: int) -> bytes:
    return _U64_U32.pack(version, index)
