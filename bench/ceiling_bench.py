"""Upper bounds on committed payments/s on this machine, from the measured per-node work.

Run: ``.venv/bin/python -m bench.ceiling_bench [--txns N] [--accounts K] [--block 500]``.

Measures, in this process and in CPU time:

* one Ed25519 signature check as nodes make it (``libra.crypto.ed25519.verify_signature``:
  the native core, or the Python reference with ``LIBRA_CORE=python``), the one step every
  node must do per payment;
* a validator's path (``bench.node_path_bench``: admission with the signature check,
  execution, ledger entries, storage) and a full node's (its admission plus
  ``bench.state_sync_bench``: applying verified outputs and storing them);

and prints what a network of V validators and F full nodes could commit per second on
``os.cpu_count()`` cores **if the network, TLS, consensus messages, HTTP and JSON cost
nothing**. ``libra bench`` measures what the real processes do; the gap between the two
is what those parts cost. The last column is the CPU a payment may take per process to
reach a target rate.
"""

from __future__ import annotations

import os
import time

import nacl.bindings

from bench import node_path_bench, state_sync_bench
from bench.node_path_bench import parse_workload
from libra import native
from libra.client.loadgen import Sender
from libra.crypto.ed25519 import verify_signature

TARGETS = ((4, 1, 2500.0), (1, 0, 8000.0))  # issue 12's goals: (validators, full nodes, payments/s)


def verify_micros(seconds: float = 2.0) -> float:
    """CPU µs of one Ed25519 signature check over a payment-sized message."""
    sender = Sender.generate()
    message = bytes(range(200))
    signature = nacl.bindings.crypto_sign(message, sender.secret)[:64]
    if not verify_signature(sender.public, message, signature):
        raise AssertionError("the benchmark's own signature does not verify")
    count = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for _ in range(200):
            verify_signature(sender.public, message, signature)
        count += 200
    return 1e6 * (time.process_time() - started) / count


def machine_bound(
    cores: int, validators: int, full_nodes: int, validator_us: float, full_node_us: float
) -> float:
    """Payments/s when the machine's cores do nothing but each node's share of every payment."""
    return cores * 1e6 / (validators * validator_us + full_nodes * full_node_us)


def main(argv: list[str] | None = None) -> None:
    args = parse_workload(argv, __doc__.splitlines()[0])
    cores = os.cpu_count() or 1
    verify = verify_micros()
    validator = node_path_bench.run(args.txns, args.accounts, args.block)
    follower = state_sync_bench.run(args.txns, args.accounts, args.block)
    admission = validator["API decode + admission"]
    validator_us = validator["total CPU"]
    full_node_us = admission + follower["total CPU"]
    print(f"load average {os.getloadavg()[0]:.2f}; {cores} cores; CPU µs per payment:")
    print(f"  signature check ({native.mode()} core)            {verify:8.1f}")
    print(f"  validator path (admission .. storage)     {validator_us:8.1f}")
    print(f"  full node path (admission + state sync)   {full_node_us:8.1f}")
    print()
    print(
        f"{'network':24s} {'signature checks only':>22s} {'node paths only':>16s} {'target':>8s} {'µs/process at target':>21s}"
    )
    for validators, full_nodes, target in TARGETS:
        nodes = validators + full_nodes
        only_verify = machine_bound(cores, validators, full_nodes, verify, verify)
        paths = machine_bound(cores, validators, full_nodes, validator_us, full_node_us)
        if nodes == 1:  # one process: its Python work holds the GIL, only signature checks run beside it
            paths = min(paths, 1e6 / (validator_us - verify))
        budget = cores * 1e6 / target / nodes
        label = f"{validators} validator(s) + {full_nodes} full"
        print(f"{label:24s} {only_verify:20,.0f}/s {paths:14,.0f}/s {target:7,.0f}/s {budget:18,.0f} µs")


if __name__ == "__main__":
    main()
