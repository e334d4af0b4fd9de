"""The on-chain rules as pure functions over a state view (no I/O, clocks, threads or randomness).

How this is organised::

    errors.py      MoveAbort, abort reasons, VM statuses and their JSON, discard StatusCodes
    aborts.py      every abort the rules raise, by Move module
    codec.py       BCS layouts of Move values; MoveStruct base; EventHandle
    resources.py   on-chain resources (Move structs) and their resource paths
    events.py      event payloads (Move event structs) and their type tags
    state.py       StateView protocol, account blobs, block cache, transaction overlay
    signature.py   the Ed25519 natives (key validation, verification)
    accounts.py    roles, account creation, currencies, key rotation, sliding nonces
    payments.py    withdraw / deposit / pay_from and dual attestation
    treasury.py    designated dealers, mint, preburn, burn, exchange rates, fees
    compliance.py  freezing, Diem ID domains, compliance credentials
    system.py      validators, reconfiguration, block prologue, version
    scripts.py     script functions and Move scripts (by code hash) → rules
    vm.py          prologue (check_prologue), payload, epilogue, gas
    genesis.py     GenesisConfig → genesis transaction and state
    views.py       typed read views of accounts, currencies and chain metadata for the API
"""
