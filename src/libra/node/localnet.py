"""The local network launcher: genesis, keys, configs and node processes on 127.0.0.1.

Layout of the data folder (``.libra/localnet`` unless told otherwise)::

    DIR/
      localnet.json                 what is running and where (written when ready)
      genesis.bcs                   the genesis transaction (BCS), shared by every node
      keys/treasury_compliance.key  hex Ed25519 private keys (mode 0600)
      keys/designated_dealer.key
      keys/diem_root.key
      validator-0/node.toml         one folder per node: config, keys, store, log
      validator-0/consensus.key
      validator-0/network.key
      validator-0/operator.key      (validators added later: their operator account's key)
      validator-0/db/
      validator-0/node.log
      full-node-0/...

The first start creates everything; a later start with the same folder reuses it, so
the network resumes from disk (node configs are written again, from the options given).
Nodes are separate processes (``libra node run
--config``); the launcher never restarts one that dies, it says so and keeps the
others running. SIGINT/SIGTERM stop every node cleanly. On Linux a node also gets SIGTERM
when its launcher dies by any means, SIGKILL included, so no node outlives it.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from libra.crypto.ed25519 import Ed25519PrivateKey, load_private_key, save_private_key
from libra.node.config import (
    ApiSection,
    ConfigError,
    ConsensusSection,
    FaucetSection,
    GenesisSection,
    NetworkSection,
    NodeConfig,
    NodeSection,
    load_config,
    render_config,
)
from libra.node.genesis import ValidatorIdentity, write_genesis

KEY_NAMES = ("diem_root", "treasury_compliance", "designated_dealer")


class LocalnetError(RuntimeError):
    """The local network could not be prepared or started; the message says why."""


@dataclass(frozen=True, slots=True)
class LocalnetSpec:
    data_dir: Path
    validators: int = 4
    full_nodes: int = 1
    chain_id: int = 2
    api_port: int = 8080
    network_base_port: int = 6180
    ready_timeout_secs: float = 60.0
    peer_addresses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Node name -> {validator name -> "host:port"}: where that node dials that validator
    instead of its on-chain address (e.g. a TCP proxy the partition tests cut and heal)."""


@dataclass(frozen=True, slots=True)
class NodePlan:
    name: str
    role: str
    folder: Path
    config_path: Path
    api_port: int
    network_port: int


@dataclass(slots=True)
class RunningNode:
    plan: NodePlan
    process: subprocess.Popen[bytes]
    log_file: object = field(repr=False)


def _recorded_network_port(config_path: Path) -> int | None:
    """The network port an existing node was created with (genesis publishes it on chain)."""
    try:
        listen = load_config(config_path).network.listen
    except ConfigError:
        return None
    return int(listen.rpartition(":")[2]) if listen else None


def plan_nodes(spec: LocalnetSpec) -> list[NodePlan]:
    """Names, folders and ports; the API-serving node (full node if any) gets ``api_port``.

    Network ports are part of genesis (validators find each other on chain), so a
    network that already exists keeps the ports it was created with.
    """
    names = [(f"validator-{i}", "validator") for i in range(spec.validators)]
    names += [(f"full-node-{i}", "full_node") for i in range(spec.full_nodes)]
    public = names[-1][0] if spec.full_nodes else names[0][0]
    plans = []
    other_port = spec.api_port + 1
    for index, (name, role) in enumerate(names):
        if name == public:
            api_port = spec.api_port
        else:
            api_port = other_port
            other_port += 1
        folder = spec.data_dir / name
        network_port = spec.network_base_port + index
        if (spec.data_dir / "genesis.bcs").exists():
            network_port = _recorded_network_port(folder / "node.toml") or network_port
        plans.append(NodePlan(name, role, folder, folder / "node.toml", api_port, network_port))
    _check_ports_distinct(plans)
    return plans


def _check_ports_distinct(plans: list[NodePlan]) -> None:
    """Refuse a plan that gives two listeners one port (``--port`` and ``--network-port``
    ranges that overlap): the second node would fail to bind after the first started."""
    owners: dict[int, str] = {}
    for plan in plans:
        for port, what in ((plan.api_port, "JSON-RPC"), (plan.network_port, "network")):
            owner = f"{plan.name}'s {what} port"
            if port in owners:
                raise LocalnetError(
                    f"{owner} {port} is also {owners[port]}: pick --port and --network-port so that "
                    f"their ranges ({len(plans)} ports each) do not overlap"
                )
            owners[port] = owner


def public_node(plans: list[NodePlan]) -> NodePlan:
    return next(p for p in plans if p.role == "full_node") if any(p.role == "full_node" for p in plans) else plans[0]


def _load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_private_key(path)
    key = Ed25519PrivateKey.generate()
    save_private_key(path, key)
    return key


def prepare(spec: LocalnetSpec) -> list[NodePlan]:
    """Create keys, genesis and configs on first start; reuse them afterwards."""
    if spec.validators < 1:
        raise LocalnetError("a network needs at least one validator")
    plans = plan_nodes(spec)
    _check_peer_addresses(spec, plans)
    if (spec.data_dir / "genesis.bcs").exists():
        existing = sorted(  # genesis validators (added ones have an operator key and are started by hand)
            p.name for p in spec.data_dir.glob("validator-*")
            if (p / "consensus.key").exists() and not (p / "operator.key").exists()
        )
        if len(existing) != spec.validators:
            raise LocalnetError(
                f"{spec.data_dir} holds a network of {len(existing)} validator(s); start it with "
                f"--validators {len(existing)}, or use another --data folder"
            )
    (spec.data_dir / "keys").mkdir(parents=True, exist_ok=True, mode=0o700)
    account_keys = {name: _load_or_create_key(spec.data_dir / "keys" / f"{name}.key") for name in KEY_NAMES}
    identities = []
    for plan in plans:
        plan.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        network_key = _load_or_create_key(plan.folder / "network.key")
        if plan.role == "validator":
            consensus_key = _load_or_create_key(plan.folder / "consensus.key")
            identities.append(
                ValidatorIdentity(
                    name=plan.name,
                    consensus_public_key=consensus_key.public_key().to_bytes(),
                    network_public_key=network_key.public_key().to_bytes(),
                    network_address=f"127.0.0.1:{plan.network_port}",
                )
            )
    genesis_path = spec.data_dir / "genesis.bcs"
    if not genesis_path.exists():
        write_genesis(
            genesis_path,
            chain_id=spec.chain_id,
            diem_root_public_key=account_keys["diem_root"].public_key().to_bytes(),
            treasury_compliance_public_key=account_keys["treasury_compliance"].public_key().to_bytes(),
            designated_dealer_public_key=account_keys["designated_dealer"].public_key().to_bytes(),
            validators=identities,
        )
    seeds = tuple(f"127.0.0.1:{p.network_port}" for p in plans if p.role == "validator")
    full_nodes = [p for p in plans if p.role == "full_node"]
    dial = _peer_addresses(spec, plans, {i.name: i.account_address.value.hex() for i in identities})
    for plan in plans:
        config = _node_config(spec, plan, seeds, full_nodes if plan.role == "validator" else [], dial[plan.name])
        plan.config_path.write_text(render_config(config), encoding="utf-8")
    return plans


def _check_peer_addresses(spec: LocalnetSpec, plans: list[NodePlan]) -> None:
    """Refuse ``spec.peer_addresses`` naming unknown nodes or bad addresses, before anything is written."""
    names = {p.name for p in plans}
    validators = {p.name for p in plans if p.role == "validator"}
    for dialer, targets in spec.peer_addresses.items():
        if dialer not in names:
            raise LocalnetError(f"peer addresses: no node named {dialer!r} (nodes: {', '.join(sorted(names))})")
        for target, address in targets.items():
            if target not in validators:
                raise LocalnetError(f"peer addresses of {dialer}: {target!r} is not a validator of this network")
            host, sep, port = address.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise LocalnetError(f"peer addresses of {dialer}: {target} must be HOST:PORT, got {address!r}")


def _peer_addresses(
    spec: LocalnetSpec, plans: list[NodePlan], accounts: dict[str, str]
) -> dict[str, dict[str, str]]:
    """``spec.peer_addresses`` by node name -> {peer account address hex: "host:port"}."""
    out: dict[str, dict[str, str]] = {p.name: {} for p in plans}
    for dialer, targets in spec.peer_addresses.items():
        for target, address in targets.items():
            out[dialer][accounts[target]] = address
    return out


def _node_config(
    spec: LocalnetSpec,
    plan: NodePlan,
    seeds: tuple[str, ...],
    full_nodes: list[NodePlan],
    peer_addresses: dict[str, str] | None = None,
    *,
    faucet: bool | None = None,
) -> NodeConfig:
    """A node's config. Validators accept the full nodes' keys and follow them while not
    in the validator set (``upstream``); full nodes serve such followers."""
    keys = spec.data_dir.resolve() / "keys"
    folder = plan.folder.resolve()
    serves_faucet = plan == public_node(plan_nodes(spec)) if faucet is None else faucet
    full_node_keys = [load_private_key(p.folder / "network.key").public_key().hex() for p in full_nodes]
    return NodeConfig(
        node=NodeSection(name=plan.name, role=plan.role, data_dir=folder / "db", chain_id=spec.chain_id),  # type: ignore[arg-type]
        genesis=GenesisSection(file=spec.data_dir.resolve() / "genesis.bcs"),
        consensus=ConsensusSection(key_file=folder / "consensus.key" if plan.role == "validator" else None),
        network=NetworkSection(
            listen=f"127.0.0.1:{plan.network_port}",
            key_file=folder / "network.key",
            seeds=tuple(s for s in seeds if s != f"127.0.0.1:{plan.network_port}"),
            full_node_keys=tuple(full_node_keys),
            upstream=tuple(f"{key}@127.0.0.1:{p.network_port}" for key, p in zip(full_node_keys, full_nodes, strict=True)),
            serve_followers=plan.role == "full_node",
            peer_addresses=peer_addresses or {},
        ),
        api=ApiSection(enabled=True, host="127.0.0.1", port=plan.api_port),
        faucet=FaucetSection(
            enabled=serves_faucet,
            treasury_compliance_key_file=keys / "treasury_compliance.key" if serves_faucet else None,
            designated_dealer_key_file=keys / "designated_dealer.key" if serves_faucet else None,
        ),
    )


@dataclass(frozen=True, slots=True)
class JoiningValidator:
    """A validator prepared to join a running localnet (not in the set until governance adds it)."""

    plan: NodePlan
    consensus_key: Ed25519PrivateKey
    network_key: Ed25519PrivateKey
    operator_key: Ed25519PrivateKey


def _existing_plans(data_dir: Path) -> list[NodePlan]:
    """The nodes a localnet folder holds, read from their configs."""
    plans = []
    for config_path in sorted(data_dir.glob("*/node.toml")):
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            raise LocalnetError(f"cannot read {config_path}: {exc}") from None
        if config.network.listen is None:
            continue
        plans.append(
            NodePlan(
                config.node.name,
                config.node.role,
                config_path.parent,
                config_path,
                config.api.port,
                int(config.network.listen.rpartition(":")[2]),
            )
        )
    return plans


def prepare_validator(
    data_dir: Path, name: str | None = None, network_port: int | None = None, api_port: int | None = None
) -> JoiningValidator:
    """Keys and ``node.toml`` for a new validator of the localnet in ``data_dir``.

    Its consensus key names its owner account, ``operator.key`` its operator account
    (``libra validator add`` creates both on chain). Until governance adds it to the set
    it follows the localnet's full node(s) (``network.upstream``). Prepared again with the
    same name, it keeps its keys.
    """
    if not (data_dir / "genesis.bcs").exists():
        raise LocalnetError(f"{data_dir} holds no localnet (no genesis.bcs); start one with `libra localnet` first")
    existing = _existing_plans(data_dir)
    if name is None:
        taken = {p.name for p in existing}
        name = next(f"validator-{i}" for i in range(len(existing) + 1) if f"validator-{i}" not in taken)
    known = next((p for p in existing if p.name == name), None)
    if known is not None and known.role != "validator":
        raise LocalnetError(f"{name} is a {known.role} of this localnet; choose another --name")
    if known is not None and not (known.folder / "operator.key").exists():
        raise LocalnetError(f"{name} is one of the localnet's genesis validators; choose another --name")
    full_nodes = [p for p in existing if p.role == "full_node"]
    if not full_nodes:
        raise LocalnetError("the localnet has no full node for a new validator to follow until it joins the set")
    others = [p for p in existing if p.name != name]
    network_port = network_port or (known.network_port if known else max(p.network_port for p in others) + 1)
    api_port = api_port or (known.api_port if known else max(p.api_port for p in others) + 1)
    for port, what in ((network_port, "network"), (api_port, "JSON-RPC")):
        clash = next((p.name for p in others if port in (p.network_port, p.api_port)), None)
        if clash is not None:
            raise LocalnetError(f"{what} port {port} is already used by {clash}")
    folder = data_dir / name
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    plan = NodePlan(name, "validator", folder, folder / "node.toml", api_port, network_port)
    joining = JoiningValidator(
        plan,
        _load_or_create_key(folder / "consensus.key"),
        _load_or_create_key(folder / "network.key"),
        _load_or_create_key(folder / "operator.key"),
    )
    chain_id = load_config(full_nodes[0].config_path).node.chain_id
    spec = LocalnetSpec(data_dir=data_dir, validators=0, full_nodes=0, chain_id=chain_id)
    seeds = tuple(f"127.0.0.1:{p.network_port}" for p in others if p.role == "validator")
    config = _node_config(spec, plan, seeds, full_nodes, faucet=False)
    plan.config_path.write_text(render_config(config), encoding="utf-8")
    return joining


def _check_ports_free(plans: list[NodePlan]) -> None:
    """Refuse to start over another server: readiness is judged by who answers on a port."""
    for plan in plans:
        for port, what in ((plan.api_port, "JSON-RPC"), (plan.network_port, "network")):
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    raise LocalnetError(
                        f"{plan.name}'s {what} port {port} is in use (another localnet?); "
                        "pick free ports with --port / --network-port"
                    ) from None


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _terminate_with(prctl: Callable[..., int], parent_pid: int) -> None:
    """In a child between fork and exec: have Linux send it SIGTERM when its parent dies.

    The launcher stops its nodes on SIGINT/SIGTERM, but nothing runs in a process killed by
    SIGKILL (a test runner's timeout, the OOM killer), and its nodes would keep their ports
    and stores. The signal is asked for after the fork, so a parent that died in between is
    noticed by its pid instead. ``prctl`` is looked up before the fork: the child loads nothing.
    """
    if prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return  # not fatal: the node simply outlives a killed launcher, as before
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)


def end_with_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` for child processes that must not outlive this one (Linux only)."""
    if sys.platform != "linux":
        return None
    return functools.partial(_terminate_with, ctypes.CDLL(None, use_errno=True).prctl, os.getpid())


def _start(plan: NodePlan) -> RunningNode:
    log = open(plan.folder / "node.log", "ab")  # noqa: SIM115 - closed when the node stops
    process = subprocess.Popen(
        [sys.executable, "-m", "libra.cli", "node", "run", "--config", str(plan.config_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches the launcher, which stops nodes in order
        preexec_fn=end_with_this_process(),
    )
    return RunningNode(plan, process, log)


def _is_ready(port: int) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1",
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "get_metadata", "params": []}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return "result" in json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _wait_ready(nodes: list[RunningNode], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(nodes)
    while pending:
        for node in list(pending):
            if node.process.poll() is not None:
                raise LocalnetError(
                    f"{node.plan.name} exited with status {node.process.returncode}; see {node.plan.folder / 'node.log'}"
                )
            if _is_ready(node.plan.api_port):
                pending.remove(node)
        if pending and time.monotonic() > deadline:
            names = ", ".join(n.plan.name for n in pending)
            raise LocalnetError(f"{names} not ready after {timeout:.0f} s; see their node.log")
        if pending:
            time.sleep(0.2)


def describe(spec: LocalnetSpec, nodes: list[RunningNode]) -> dict[str, object]:
    """The contents of ``localnet.json``."""
    public = public_node([n.plan for n in nodes])
    keys = spec.data_dir.resolve() / "keys"
    return {
        "chain_id": spec.chain_id,
        "json_rpc": f"http://127.0.0.1:{public.api_port}/v1",
        "faucet": f"http://127.0.0.1:{public.api_port}/mint",
        "keys": {
            "treasury_compliance": str(keys / "treasury_compliance.key"),
            "designated_dealer": str(keys / "designated_dealer.key"),
            "diem_root": str(keys / "diem_root.key"),
        },
        "nodes": [
            {
                "name": n.plan.name,
                "role": n.plan.role,
                "pid": n.process.pid,
                "config": str(n.plan.config_path.resolve()),
                "data_dir": str(n.plan.folder.resolve()),
                "network": f"127.0.0.1:{n.plan.network_port}",
                "json_rpc": f"http://127.0.0.1:{n.plan.api_port}/v1",
                "metrics": f"http://127.0.0.1:{n.plan.api_port}/metrics",
            }
            for n in nodes
        ],
    }


def _stop(nodes: list[RunningNode], grace_secs: float = 15.0) -> None:
    for node in nodes:
        if node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_secs
    for node in nodes:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            node.process.wait(remaining)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()
        node.log_file.close()  # type: ignore[attr-defined]


def run(spec: LocalnetSpec, announce: Callable[[dict[str, object]], None]) -> int:
    """Start the network, announce it, and supervise until a signal arrives."""
    plans = prepare(spec)
    nodes: list[RunningNode] = []
    stop_requested = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _check_ports_free(plans)
        for plan in plans:
            nodes.append(_start(plan))
        _wait_ready(nodes, spec.ready_timeout_secs)
        info = describe(spec, nodes)
        state_file = spec.data_dir / "localnet.json"
        state_file.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        announce(info)
        reported: set[str] = set()
        while not stop_requested:
            for node in nodes:
                if node.process.poll() is not None and node.plan.name not in reported:
                    reported.add(node.plan.name)
                    print(
                        f"{node.plan.name} exited with status {node.process.returncode}; restart it with "
                        f"`libra node run --config {node.plan.config_path}`",
                        file=sys.stderr,
                        flush=True,
                    )
            time.sleep(0.2)
        return 0
    finally:
        _stop(nodes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        state_file = spec.data_dir / "localnet.json"
        if state_file.exists() and stop_requested:
            os.replace(state_file, spec.data_dir / "localnet.stopped.json")
