"""The transaction view's ``script_bytes`` cut from the stored bytes equals the payload encoded again."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libra.api.transaction_views import transaction_data_view, user_transaction_view
from libra.types.move import AccountAddress, ModuleId, StructTag
from libra.types.transaction import (
    Ed25519Authenticator,
    Module,
    MultiAgentAuthenticator,
    MultiEd25519Authenticator,
    RawTransaction,
    Script,
    ScriptFunction,
    SignedTransaction,
    U8VectorArg,
    U64Arg,
    transaction_to_bcs,
)

ADDRESS = st.binary(min_size=16, max_size=16).map(AccountAddress)
U64 = st.integers(0, 2**64 - 1)
NAME = st.sampled_from(["XUS", "DiemAccount", "peer_to_peer_with_metadata", "a", "Z_9"])
PAYLOAD = st.one_of(
    st.builds(
        ScriptFunction,
        st.builds(ModuleId, ADDRESS, NAME),
        NAME,
        st.lists(st.builds(StructTag, ADDRESS, NAME, NAME, st.just(())), max_size=2).map(tuple),
        st.lists(st.binary(max_size=300), max_size=4).map(tuple),
    ),
    st.builds(
        Script,
        st.binary(max_size=200),
        st.just(()),
        st.lists(st.one_of(st.builds(U64Arg, U64), st.builds(U8VectorArg, st.binary(max_size=200))), max_size=3).map(tuple),
    ),
    st.builds(Module, st.binary(max_size=50)),
)
ACCOUNT_AUTH = st.one_of(
    st.builds(Ed25519Authenticator, st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64)),
    st.builds(MultiEd25519Authenticator, st.binary(max_size=200), st.binary(max_size=200)),
)
AUTH = st.one_of(
    ACCOUNT_AUTH,
    st.builds(
        MultiAgentAuthenticator,
        ACCOUNT_AUTH,
        st.lists(ADDRESS, max_size=2).map(tuple),
        st.lists(ACCOUNT_AUTH, max_size=2).map(tuple),
    ),
)
SIGNED = st.builds(
    SignedTransaction,
    st.builds(
        RawTransaction,
        ADDRESS,
        U64,
        PAYLOAD,
        U64,
        U64,
        st.one_of(st.sampled_from(["XUS", "XDX", ""]), st.text(max_size=150)),
        U64,
        st.integers(0, 255),
    ),
    AUTH,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SIGNED)
def test_view_from_stored_bytes_equals_view_encoded_again(signed: SignedTransaction) -> None:
    data = transaction_to_bcs(signed)
    assert transaction_data_view(signed, data) == transaction_data_view(signed)
    assert user_transaction_view(signed, signed.to_bcs()) == user_transaction_view(signed)
    if not isinstance(signed.raw_txn.payload, Module):
        assert user_transaction_view(signed, signed.to_bcs())["script_bytes"] == signed.raw_txn.payload.to_bcs().hex()
