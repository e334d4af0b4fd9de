"""``libra bench``: committed payments per second, latency and costs of a node under load.

Starts its own single-validator localnet in a temporary folder (or targets ``--url``),
funds ``--accounts`` senders, pre-signs payments between them and submits them at
``--rate`` per second (or ``max``) for ``--duration`` seconds (see ``libra.client.loadgen``).
Prints a live progress line and a table at the end; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import click
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from libra.client import loadgen
from libra.node import event_loop
from libra.node.localnet import end_with_this_process

LOCALNET_READY_SECS = 90.0


def _free_ports(count: int, avoid: range = range(0)) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1 (outside ``avoid``)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        wanted = range(base, base + count)
        if wanted.stop > 65535 or (set(wanted) & set(avoid)):
            continue
        try:
            for port in wanted:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise click.ClickException(f"no {count} consecutive free ports found")


class OwnLocalnet:
    """``libra localnet`` as a subprocess in a temporary folder, stopped with SIGINT."""

    def __init__(self, keep: Path | None = None, validators: int = 1, full_nodes: int = 0) -> None:
        self.validators = validators
        self.full_nodes = full_nodes
        self._tmp = None if keep is not None else tempfile.TemporaryDirectory(prefix="libra-bench-")
        self.folder = keep if keep is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        nodes = self.validators + self.full_nodes
        api_port = _free_ports(nodes)
        network_port = _free_ports(nodes, avoid=range(api_port, api_port + nodes))
        data = self.folder / "localnet"
        self._log = open(self.folder / "localnet.out", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "libra.cli", "localnet", "--data", str(data), "--port", str(api_port),
             "--network-port", str(network_port), "--validators", str(self.validators),
             "--full-nodes", str(self.full_nodes)],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=end_with_this_process(),  # an interrupted bench leaves no localnet behind
        )
        state = data / "localnet.json"
        deadline = time.monotonic() + LOCALNET_READY_SECS
        while not state.exists():
            if self.process.poll() is not None:
                raise click.ClickException(f"localnet exited ({self.process.returncode}); see {self.folder / 'localnet.out'}")
            if time.monotonic() > deadline:
                raise click.ClickException("localnet not ready in time")
            time.sleep(0.1)
        time.sleep(0.05)  # written in one call; let it land
        self.info = json.loads(state.read_text(encoding="utf-8"))
        return self.info

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self._log.close()
        if self._tmp is not None:
            self._tmp.cleanup()


class _Cpu:
    """CPU seconds of the node processes (and this one) between marks."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.marks: dict[str, dict[str, float]] = {}

    def mark(self, name: str) -> None:
        sample = {label: loadgen.proc_cpu_seconds(pid) or 0.0 for label, pid in self.pids.items()}
        times = os.times()
        sample["bench"] = times.user + times.system
        self.marks[name] = sample

    def between(self, first: str, last: str) -> dict[str, float]:
        a, b = self.marks.get(first, {}), self.marks.get(last, {})
        return {label: b[label] - a.get(label, 0.0) for label in b}


def _progress_text(state: dict[str, Any], cpu: _Cpu) -> Text:
    node_cpu = ""
    for label, pid in cpu.pids.items():
        now = loadgen.proc_cpu_seconds(pid)
        if now is not None:
            prev = cpu.marks.get("_tick", {}).get(label)
            cpu.marks.setdefault("_tick", {})[label] = now
            if prev is not None:
                node_cpu += f"  {label} cpu {100 * (now - prev):.0f}%"
    phase = "submitting" if state["submitting"] else "draining"
    return Text(
        f"{state['elapsed_s']:5.1f} s {phase}  committed {state['committed']:,} ({state['tps_now']:,.0f}/s)  "
        f"accepted {state['submitted']:,}  in flight {state['inflight']:,}  rejected {state['rejected']:,}{node_cpu}"
    )


def _table(doc: dict[str, Any]) -> Table:
    table = Table(title="libra bench", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    rate = doc["rate"] if doc["rate"] is not None else "max"
    rows = [
        ("committed payments/s (steady window)", f"{doc['tps']:,.1f}"),
        ("offered (accepted submissions/s)", f"{doc['offered_tps']:,.1f}"),
        ("target rate", str(rate)),
        ("latency p50 / p99 (ms)", f"{doc['p50_ms']} / {doc['p99_ms']}"),
        ("submit POST p50 / p99 (ms), all", " / ".join(map(str, doc["submit_rpc_ms"]))),
        ("submit POST p50 / p99 (ms), with a rejection", " / ".join(map(str, doc["rejected_rpc_ms"]))),
        ("submitted (accepted) / attempts", f"{doc['submitted']:,} / {doc['attempts']:,}"),
        ("committed / lost", f"{doc['committed']:,} / {doc['lost']:,}"),
        ("refused, not sent again before the drain ended", f"{doc.get('unsent_retries', 0):,}"),
        ("steady window (s) / run (s)", f"{doc['window_s']:.1f} / {doc['duration_s']:.1f}"),
        ("accounts / connections / validators", f"{doc['accounts']} / {doc['connections']} / {doc['validators']}"),
        ("PyNaCl verifies/s on one core", f"{doc['verify_per_core']:,}"),
        ("load average before / after", f"{doc['loadavg_before']} / {doc['loadavg_after']}"),
    ]
    for label, seconds in doc["cpu_s"].items():
        rows.append((f"CPU {label} (s in window, % of one core)", f"{seconds:.1f}  ({doc['cpu_util'][label]:.0f}%)"))
    for label, (rss, peak) in doc["rss_mb"].items():
        rows.append((f"RSS {label} now / peak (MiB)", f"{rss:.0f} / {peak:.0f}"))
    for reason, count in doc["rejected"].items():
        rows.append((f"rejected: {reason}", f"{count:,}"))
    if doc["ran_out"]:
        rows.append(("note", "ran out of pre-signed payments (raise --presign)"))
    for label, value in rows:
        table.add_row(label, value)
    return table


STUCK_SENDERS_LOOKED_UP = 200  # senders of stuck payments whose account is read at the end


async def _mempool_size(session: aiohttp.ClientSession, metrics_url: str) -> int | None:
    """A node's ``libra_mempool_transactions`` gauge (None when it does not answer with it)."""
    try:
        async with session.get(metrics_url) as response:
            return mempool_gauge(await response.text())
    except (TimeoutError, aiohttp.ClientError):
        return None


def mempool_gauge(exposition: str) -> int | None:
    """``libra_mempool_transactions`` in Prometheus text ``exposition`` (None: absent or unparsable)."""
    try:
        for family in text_string_to_metric_families(exposition):
            if family.name == "libra_mempool_transactions" and family.samples:
                return int(family.samples[0].value)
    except ValueError:
        return None
    return None


async def _stuck(
    session: aiohttp.ClientSession, generator: loadgen.LoadGenerator, url: str, nodes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The stuck payments, their senders' sequence numbers on chain (as the API node and,
    for a localnet, every node tells it) and every node's mempool size."""
    stuck = generator.report.stuck
    senders = list(loadgen.stuck_senders(stuck))[:STUCK_SENDERS_LOOKED_UP]
    on_chain = await generator.on_chain_sequence_numbers(session, url, senders)
    doc = loadgen.stuck_report(stuck, on_chain)
    per_node: dict[str, Any] = {}
    for node in nodes:
        name = str(node.get("name"))
        view: dict[str, Any] = {}
        if node.get("metrics"):
            view["mempool"] = await _mempool_size(session, str(node["metrics"]))
        if node.get("json_rpc"):
            seqs = await generator.on_chain_sequence_numbers(session, str(node["json_rpc"]), senders[:20])
            view["on_chain"] = seqs
        per_node[name] = view
    doc["nodes"] = per_node
    return doc


def _stuck_lines(stuck: dict[str, Any]) -> list[str]:
    lines = [f"stuck: {stuck['count']} accepted payment(s) not committed"]
    for p in stuck["payments"]:
        lines.append(f"  sender {p['sender']} seq {p['sequence_number']} hash {p['hash']}")
    lines.append("  per sender: lowest stuck seq / stuck / seq on chain")
    for entry in stuck["senders"][: loadgen.STUCK_LISTED]:
        lines.append(f"  {entry['sender']}  {entry['lowest_stuck']} / {entry['stuck']} / {entry['on_chain']}")
    if len(stuck["senders"]) > loadgen.STUCK_LISTED:
        lines.append(f"  … {len(stuck['senders']) - loadgen.STUCK_LISTED} more sender(s) in the --json document")
    for name, view in stuck.get("nodes", {}).items():
        seqs = view.get("on_chain", {})
        lines.append(f"  node {name}: mempool {view.get('mempool')}, seqs on chain {list(seqs.values())[:10]}")
    return lines


async def _bench(
    config: loadgen.LoadConfig,
    pids: dict[str, int],
    validators: int,
    console: Console,
    nodes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=config.connections + 4)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        metadata = await loadgen.rpc_call(session, config.url, "get_metadata", [])
        setup_started = time.perf_counter()
        generator = loadgen.LoadGenerator(config, int(metadata["chain_id"]))
        console.print(f"funding {config.accounts} senders …")
        await generator.fund(session)
        console.print("pre-signing payments …")
        generator.presign()
        setup_s = time.perf_counter() - setup_started
        verify_per_core = loadgen.measure_verify_per_core(1.0)
        cpu = _Cpu(pids)
        loadavg_before = os.getloadavg()
        with Live(Text("starting …"), console=console, refresh_per_second=4, transient=True) as live:

            def progress(state: dict[str, Any]) -> None:
                live.update(_progress_text(state, cpu))

            generator.progress = progress
            generator.on_mark = cpu.mark
            report = await generator.run(session)
        cpu.mark("drained")
        stuck = await _stuck(session, generator, config.url, nodes or []) if report.stuck else None
        cpu.marks.setdefault("window", cpu.marks["start"])
        cpu.marks.setdefault("end", cpu.marks["drained"])
        window_s = report.window[1] - report.window[0]
        cpu_s = cpu.between("window", "end")
        rss = {label: loadgen.proc_rss_mb(pid) for label, pid in pids.items()}
        return loadgen.result_document(
            tps=report.tps,
            latencies_ms=report.latencies_ms,
            submitted=report.submitted,
            committed=report.committed,
            duration_s=report.end - report.start,
            validators=validators,
            verify_per_core=verify_per_core,
            rejected=dict(report.rejected),
            cpu_s=cpu_s,
            extra={
                "offered_tps": round(report.offered_tps, 1),
                "rate": config.rate,
                "accounts": config.accounts,
                "connections": config.connections,
                "attempts": report.attempts,
                "lost": report.lost,
                "unsent_retries": report.unsent_retries,
                "window_s": round(window_s, 2),
                "cpu_util": {k: round(100 * v / max(window_s, 1e-9), 1) for k, v in sorted(cpu_s.items())},
                "rss_mb": {k: [round(v[0], 1), round(v[1], 1)] for k, v in rss.items() if v is not None},
                "loadavg_before": [round(x, 2) for x in loadavg_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "setup_s": round(setup_s, 2),
                "presigned": report.presigned,
                "ran_out": report.ran_out,
                "versions": [report.first_version, report.last_version],
                "submit_rpc_ms": _p50_p99(report.submit_rpc_ms),
                "rejected_rpc_ms": _p50_p99(report.rejected_rpc_ms),
                **({"stuck": stuck} if stuck is not None else {}),
            },
        )


def _p50_p99(values: list[float]) -> list[float | None]:
    return [None if (p := loadgen.percentile(values, q)) is None else round(p, 1) for q in (50, 99)]


def _parse_rate(_ctx: click.Context, _param: click.Parameter, value: str) -> float | None:
    if value == "max":
        return None
    try:
        rate = float(value)
    except ValueError:
        raise click.BadParameter("a number of payments per second, or max") from None
    if rate <= 0:
        raise click.BadParameter("must be positive")
    return rate


@click.command()
@click.option("--url", help="JSON-RPC URL of a running node (default: start a localnet of our own).")
@click.option("--localnet-json", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="With --url: the localnet.json whose node pids to measure CPU of.")
@click.option("--accounts", type=click.IntRange(2, 100_000), default=1000, show_default=True)
@click.option("--rate", default="max", show_default=True, callback=_parse_rate,
              help="Payments offered per second, or max (as fast as the node admits them).")
@click.option("--duration", type=click.FloatRange(1, 3600), default=60.0, show_default=True, help="Seconds of load.")
@click.option("--connections", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--window", type=click.IntRange(1, 1_000_000), default=5000, show_default=True,
              help="max mode: payments in flight at most.")
@click.option("--per-account-window", type=click.IntRange(1, 1000), default=90, show_default=True)
@click.option("--warmup", type=click.FloatRange(0, 600), default=5.0, show_default=True,
              help="Seconds excluded from the steady window (at most half the run).")
@click.option("--drain", type=click.FloatRange(0, 600), default=30.0, show_default=True,
              help="Seconds to wait after the load for accepted payments to commit.")
@click.option("--presign", type=click.IntRange(1), default=None,
              help="Payments to pre-sign (default: rate × duration; max mode: --max-rate-hint × duration).")
@click.option("--max-rate-hint", type=click.FloatRange(1), default=4000.0, show_default=True)
@click.option("--validators", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Validators of our own localnet.")
@click.option("--full-nodes", type=click.IntRange(0, 16), default=0, show_default=True,
              help="Full nodes of our own localnet (the API is served by a full node if there is one).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures here.")
@click.option("--keep-data", type=click.Path(file_okay=False, path_type=Path),
              help="Run our localnet in this folder and keep it (logs, store) afterwards.")
def bench(
    url: str | None, localnet_json: Path | None, accounts: int, rate: float | None, duration: float,
    connections: int, window: int, per_account_window: int, warmup: float, drain: float,
    presign: int | None, max_rate_hint: float, validators: int, full_nodes: int, json_path: Path | None,
    keep_data: Path | None,
) -> None:
    """Drive payments through a node and report committed payments/s, latency and costs."""
    console = Console(stderr=True)
    localnet = None
    pids: dict[str, int] = {}
    info: dict[str, Any] | None = None
    try:
        if url is None:
            if keep_data is not None:
                keep_data.mkdir(parents=True, exist_ok=True)
            localnet = OwnLocalnet(keep_data, validators, full_nodes)
            console.print("starting a localnet …")
            info = localnet.start()
            url = str(info["json_rpc"])
        elif localnet_json is not None:
            info = json.loads(localnet_json.read_text(encoding="utf-8"))
        if info is not None:
            pids = {str(node["name"]): int(node["pid"]) for node in info["nodes"]}
            validators = sum(1 for node in info["nodes"] if node["role"] == "validator")
        elif url is not None:
            validators = 0  # unknown: a node we did not start and no localnet.json
        config = loadgen.LoadConfig(
            url=url, accounts=accounts, rate=rate, duration_s=duration, connections=connections, window=window,
            per_account_window=per_account_window, warmup_s=warmup, drain_s=drain, presign=presign,
            max_rate_hint=max_rate_hint,
        )
        nodes = list(info["nodes"]) if info is not None else []
        doc = event_loop.run(_bench(config, pids, validators, console, nodes))
    except (loadgen.RpcFailure, aiohttp.ClientError) as exc:
        raise click.ClickException(f"bench failed: {exc}") from None
    finally:
        if localnet is not None:
            localnet.stop()
    Console().print(_table(doc))
    if "stuck" in doc:
        Console().print("\n".join(_stuck_lines(doc["stuck"])), markup=False, highlight=False)
    if json_path is not None:
        json_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
