"""Blocks executed with accounts remembered across blocks (DecodedAccounts) give the very
outputs of blocks that decode every account: write sets, events, statuses, gas, each
version's blobs and the changed blobs. Each version's blobs are also checked against the
write sets applied one by one to the decoded state."""

from __future__ import annotations

import numpy as np
from diem import stdlib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testchain import XUS, Account, TestChain, mixed_chain, sdk_address

from libra.execution import BlockOutput, DecodedAccounts, InMemoryStateView, execute_block
from libra.framework.state import decode_account_blob, encode_account_blob
from libra.types.transaction import SignedTransaction


def base_chain() -> tuple[TestChain, list[Account]]:
    """Two VASPs (one with a child) and a second DD, restored for each example."""
    return mixed_chain()


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["pay", "pay", "pay", "freeze", "unfreeze", "preburn", "fee", "badseq", "rotate"]),
        st.integers(0, 4),
        st.integers(0, 4),
        st.sampled_from([0, 1, 999, 10**6, 10**8]),
    ),
    min_size=1,
    max_size=12,
)


def build(chain: TestChain, accounts: list[Account], actions: list[tuple[str, int, int, int]]) -> list[SignedTransaction]:
    txns = []
    for kind, i, j, amount in actions:
        a, b = accounts[i], accounts[j]
        if kind == "pay":
            txns.append(chain.p2p(a, b.address, amount))
        elif kind == "fee":
            txns.append(chain.p2p(a, b.address, amount, currency="XUS", price=1, max_gas=50))
        elif kind == "badseq":
            txns.append(chain.p2p(a, b.address, amount, seq=10**6))
        elif kind == "rotate":
            txns.append(chain.sign(a, stdlib.encode_rotate_dual_attestation_info_script_function(b"https://x", bytes(32))))
        elif kind in ("freeze", "unfreeze"):
            enc = stdlib.encode_freeze_account_script_function if kind == "freeze" else stdlib.encode_unfreeze_account_script_function
            txns.append(chain.sign(chain.tc_account, enc(np.uint64(0), sdk_address(a.address))))
        else:
            txns.append(chain.sign(a, stdlib.encode_preburn_script_function(XUS, np.uint64(amount))))
    return txns


def check_version_blobs(view: InMemoryStateView, output: BlockOutput) -> None:
    """Each kept transaction's blobs are its write set applied to the state before it."""
    state = {address.value: decode_account_blob(blob) for address, blob in view.blobs.items()}
    assert output.metadata_output is not None
    for out in (output.metadata_output, *output.transaction_outputs):
        touched = []
        for access_path, op in out.write_set.entries:
            resources = state.setdefault(access_path.address.value, {})
            if op.value is None:
                resources.pop(access_path.path, None)
            else:
                resources[access_path.path] = op.value
            if access_path.address.value not in touched:
                touched.append(access_path.address.value)
        expected = {address: encode_account_blob(state[address]) if state[address] else None for address in touched}
        assert dict(out.account_blobs) == expected
        assert list(out.account_blobs) == touched
    for address, blob in output.changed_blobs.items():
        assert blob == (encode_account_blob(state[address.value]) if state[address.value] else None)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(ACTIONS, st.integers(1, 4))
def test_remembered_accounts_give_the_same_outputs(actions, blocks) -> None:  # type: ignore[no-untyped-def]
    chain, accounts = base_chain()
    # a first block in which every account pays: their blobs are then remembered
    warm_up = [chain.p2p(a, accounts[(i + 1) % len(accounts)].address, 1) for i, a in enumerate(accounts)]
    txns = build(chain, accounts, actions)
    per_block = max(1, len(txns) // blocks)
    chunks = [warm_up] + [txns[start : start + per_block] for start in range(0, len(txns), per_block)]
    cache = DecodedAccounts()
    found = []
    original_get = cache.get

    def counting_get(blob: bytes):  # type: ignore[no-untyped-def]
        account = original_get(blob)
        found.append(account is not None)
        return account

    cache.get = counting_get  # type: ignore[method-assign]
    plain_view, cached_view = chain.view.copy(), chain.view.copy()
    for chunk in chunks:
        metadata = chain.metadata()
        plain = execute_block(plain_view, metadata, chunk, chain_id=2, verify=False)
        cached = execute_block(cached_view, metadata, chunk, chain_id=2, verify=False, cache=cache)
        assert cached == plain
        check_version_blobs(plain_view, plain)
        plain_view.apply(plain.changed_blobs)
        cached_view.apply(cached.changed_blobs)
    assert plain_view.blobs == cached_view.blobs
    assert any(found), "later blocks found the accounts the warm-up block wrote"
