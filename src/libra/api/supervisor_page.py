"""The supervisor's page at ``/supervisor``: one static HTML document, no build step.

It reads ``/supervisor/data`` (JSON, see ``supervisor.py``) every few seconds and shows:
alerts, supply against attested reserve per currency (figures and an SVG chart over time),
large transfers with their travel-rule attestation, travel-rule coverage, frozen
accounts, executed lawful orders and refused payments. Read-only: it only GETs.
Amounts arrive as decimal strings (they exceed JavaScript's safe integers) and are
formatted with BigInt. ``body[data-ready]`` turns "true" after the first full render.
"""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supervisor — Libra</title>
<style>
  :root { --ink: #1d2433; --muted: #5b6475; --line: #dde2ea; --bad: #b42318; --warn: #b54708; --good: #067647; }
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); margin: 0; background: #f6f7f9; }
  header { background: #1d2433; color: #fff; padding: 14px 24px; }
  header h1 { font-size: 19px; margin: 0; }
  #status { color: #c9d1de; font-size: 13px; }
  main { padding: 16px 24px; display: grid; gap: 16px; max-width: 1200px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; }
  h2 { font-size: 16px; margin: 0 0 10px; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  code { font-size: 12px; }
  .empty { color: var(--muted); }
  ul#alerts { list-style: none; margin: 0; padding: 0; display: grid; gap: 6px; }
  li.alert { border-left: 4px solid var(--warn); background: #fffaeb; padding: 6px 10px; border-radius: 4px; }
  li.alert[data-kind="structuring"], li.alert[data-kind="under_collateralised"], li.alert[data-kind="reserve_shortfall"] { border-color: var(--bad); background: #fef3f2; }
  .kind { font-weight: 700; text-transform: capitalize; margin-right: 6px; }
  .ok { color: var(--good); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 12px; }
  .card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0 0 8px; }
  .card dt { color: var(--muted); } .card dd { margin: 0; font-variant-numeric: tabular-nums; }
  svg { width: 100%; height: 180px; background: #fbfcfd; border: 1px solid var(--line); border-radius: 4px; }
  polyline { fill: none; stroke-width: 2; } polyline.supply { stroke: #2e90fa; } polyline.reserve { stroke: #12b76a; stroke-dasharray: 5 3; }
  .legend span { margin-right: 14px; font-size: 12px; } .legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
</style>
</head>
<body data-ready="false">
<header><h1>Supervisor's view</h1><div id="status">Loading the node's index…</div></header>
<main>
  <section><h2>Alerts</h2><ul id="alerts"></ul></section>
  <section><h2>Supply against attested reserve</h2><div id="reserve" class="cards"></div></section>
  <section><h2>Travel rule</h2><div id="travel"></div></section>
  <section><h2>Large transfers (at or over the travel-rule limit)</h2><div id="large"></div></section>
  <section><h2>Frozen accounts</h2><div id="frozen"></div></section>
  <section><h2>Lawful orders executed</h2><div id="seizures"></div></section>
  <section><h2>Payments refused (frozen accounts)</h2><div id="refused"></div></section>
</main>
<script>
"use strict";
const el = (id) => document.getElementById(id);
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
function amount(micro, code) {
  if (micro === null || micro === undefined) return "—";
  const value = BigInt(micro), whole = value / 1000000n, cents = (value % 1000000n) / 10000n;
  return whole.toLocaleString("en-US") + "." + cents.toString().padStart(2, "0") + (code ? " " + code : "");
}
function when(usecs) {
  if (usecs === null || usecs === undefined) return "—";
  if (Number(usecs) === 0) return "genesis";
  return new Date(Number(usecs) / 1000).toISOString().replace("T", " ").replace(/\\.\\d+Z$/, " UTC");
}
const short = (address) => address ? "<code title='" + esc(address) + "'>" + esc(address.slice(0, 8) + "…" + address.slice(-6)) + "</code>" : "—";
function table(rows, columns) {
  if (!rows.length) return "<p class='empty'>None.</p>";
  const head = "<tr>" + columns.map((c) => "<th>" + esc(c[0]) + "</th>").join("") + "</tr>";
  const body = rows.map((row) => "<tr>" + columns.map((c) => "<td" + (c[2] ? " class='num'" : "") + ">" + c[1](row) + "</td>").join("") + "</tr>").join("");
  return "<table>" + head + body + "</table>";
}
function chart(points) {
  if (points.length < 1) return "<p class='empty'>No history yet.</p>";
  const values = points.flatMap((p) => [Number(p.supply), p.reserve === null ? 0 : Number(p.reserve)]);
  const top = Math.max(...values) * 1.05 || 1, n = Math.max(points.length - 1, 1);
  const line = (key) => points.map((p, i) => (i * 1000 / n).toFixed(1) + "," + (200 - (p[key] === null ? 0 : Number(p[key])) * 190 / top).toFixed(1)).join(" ");
  return "<svg viewBox='0 0 1000 200' preserveAspectRatio='none' role='img' aria-label='supply and reserve over time'>" +
    "<polyline class='reserve' points='" + line("reserve") + "'/><polyline class='supply' points='" + line("supply") + "'/></svg>" +
    "<div class='legend'><span><i style='background:#2e90fa'></i>supply</span><span><i style='background:#12b76a'></i>attested reserve</span>" +
    "<span>" + esc(when(points[0].time)) + " → " + esc(when(points[points.length - 1].time)) + "</span></div>";
}
function render(data) {
  const node = data.node;
  el("status").textContent = "Index at version " + node.indexed_through + " of " + node.ledger_version +
    (node.caught_up ? " (up to date)" : " (catching up)") + " · travel-rule limit " + amount(data.travel_rule_limit, "XDX") +
    (node.failure ? " · INDEX STOPPED: " + node.failure : "");
  el("alerts").innerHTML = data.alerts.length ? data.alerts.map((a) =>
    "<li class='alert' data-kind='" + esc(a.kind) + "' data-account='" + esc(a.account) + "'><span class='kind'>" +
    esc(a.kind.replace("_", " ")) + "</span>" + short(a.account) + " — " + esc(a.summary) +
    " <span class='empty'>(versions " + esc(a.first_version ?? "—") + "–" + esc(a.last_version ?? "—") + ", " + esc(when(a.last_time)) + ")</span></li>").join("")
    : "<li class='empty'>No alerts.</li>";
  el("reserve").innerHTML = data.reserves.map((r) =>
    "<div class='card' data-currency='" + esc(r.currency) + "'><h3>" + esc(r.currency) + "</h3><dl>" +
    "<dt>Supply</dt><dd class='supply'>" + amount(r.supply, r.currency) + "</dd>" +
    "<dt>Attested reserve</dt><dd class='reserve'>" + amount(r.reserve, r.currency) + "</dd>" +
    "<dt>Coverage</dt><dd class='" + (r.covered ? "ok" : "bad") + "'>" + (r.coverage_percent === null ? "no supply" : esc(r.coverage_percent) + " %") + "</dd>" +
    "<dt>As of</dt><dd>" + esc(when(r.as_of_usecs)) + "</dd><dt>Report</dt><dd><code>" + esc((r.report_hash || "—").slice(0, 16)) + "…</code> by " + short(r.attester) + "</dd>" +
    "<dt>Index check</dt><dd class='" + (r.index_agrees ? "ok" : "bad") + "'>" + (r.index_agrees ? "events sum to the chain's supply" : "index and chain differ") + "</dd>" +
    "</dl>" + chart(data.supply_history[r.currency] || []) + "</div>").join("");
  const t = data.travel_rule;
  el("travel").innerHTML = "<p>" + t.large + " of " + t.transfers + " transfers at or over the limit; " + t.attested +
    " carried a travel-rule attestation (coverage <b id='coverage'>" + esc(t.coverage_percent ?? "—") + (t.coverage_percent ? " %" : "") +
    "</b>). Required between VASPs: " + t.required + ", attested: " + t.required_attested + " (<span class='" +
    (t.required === t.required_attested ? "ok'>all" : "bad'>missing some") + "</span>).</p>";
  el("large").innerHTML = table(data.large_transfers, [
    ["Version", (r) => esc(r.version), true], ["Time", (r) => esc(when(r.time))], ["From", (r) => short(r.sender)],
    ["To", (r) => short(r.receiver)], ["Amount", (r) => amount(r.amount, r.currency), true],
    ["Attestation", (r) => r.attested ? "<span class='ok'>attested</span>" : (r.required ? "<span class='bad'>missing</span>" : "not required")]]);
  el("frozen").innerHTML = table(data.frozen, [["Account", (r) => short(r.address)], ["Since version", (r) => esc(r.version), true], ["Since", (r) => esc(when(r.time))]]);
  el("seizures").innerHTML = table(data.seizures, [
    ["Version", (r) => esc(r.version), true], ["Order (hash)", (r) => "<code>" + esc(r.order_hash.slice(0, 16)) + "…</code>"],
    ["From", (r) => short(r.target)], ["Action", (r) => r.burned ? "burned" : "to " + short(r.destination)],
    ["Amount", (r) => amount(r.amount, r.currency), true]]);
  el("refused").innerHTML = table(data.refused, [
    ["Seen", (r) => r.version === null ? "admission" : "version " + esc(r.version)], ["Time", (r) => esc(when(r.time))],
    ["From", (r) => short(r.sender)], ["To", (r) => short(r.receiver)], ["Amount", (r) => r.amount === null ? "—" : amount(r.amount, r.currency), true],
    ["Why", (r) => esc(r.reason)]]);
  document.body.dataset.ready = "true";
}
async function refresh() {
  try {
    const response = await fetch("/supervisor/data" + location.search, {cache: "no-store"});
    if (!response.ok) { el("status").textContent = "The node answered: " + (await response.text()); return; }
    render(await response.json());
  } catch (error) {
    el("status").textContent = "Cannot reach the node (" + error.message + "); retrying.";
  }
}
refresh();
setInterval(refresh, 3000);
</script>
</body>
</html>
"""
