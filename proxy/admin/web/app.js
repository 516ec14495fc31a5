// slotgate status page: polls /topology, /stats and /events once a second and redraws.
// Read-only; every value from the cluster is shown with textContent (never as HTML).
"use strict";

const POLL_MS = 1000;
const WINDOW = 5;  // rates and quantiles over the last WINDOW samples (~5 s)
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
                "#e15759", "#9c755f", "#ff9da7", "#bab0ac", "#86bcb6", "#d37295"];

const samples = [];        // [{t, fam}] newest last
let topology = null;
let lastEventSeq = -1;
let selected = null;       // address of the master whose details are shown
const masterColor = new Map();

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  if (props) for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

async function getJSON(path) {
  const r = await fetch(path, {cache: "no-store"});
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

// ---- metric helpers -----------------------------------------------------------------------
function series(fam, name) { return (fam && fam[name] && fam[name].series) || []; }
function match(labels, want) {
  for (const [k, v] of Object.entries(want || {})) if (labels[k] !== v) return false;
  return true;
}
function total(fam, name, want) {
  let s = 0;
  for (const x of series(fam, name)) if (match(x.labels, want)) s += x.value || 0;
  return s;
}
function byLabel(fam, name, label, want) {
  const m = new Map();
  for (const x of series(fam, name)) {
    if (!match(x.labels, want)) continue;
    const key = x.labels[label];
    m.set(key, (m.get(key) || 0) + (x.value || 0));
  }
  return m;
}
function oldest() { return samples.length > 1 ? samples[Math.max(0, samples.length - 1 - WINDOW)] : null; }
function rate(name, want) {
  const a = oldest(), b = samples[samples.length - 1];
  if (!a || !b || b.t <= a.t) return 0;
  return Math.max(0, total(b.fam, name, want) - total(a.fam, name, want)) / ((b.t - a.t) / 1000);
}
function rateByLabel(name, label, want) {
  const a = oldest(), b = samples[samples.length - 1];
  const out = new Map();
  if (!a || !b || b.t <= a.t) return out;
  const before = byLabel(a.fam, name, label, want);
  for (const [k, v] of byLabel(b.fam, name, label, want)) {
    out.set(k, Math.max(0, v - (before.get(k) || 0)) / ((b.t - a.t) / 1000));
  }
  return out;
}
// Cumulative buckets [[le, count]] summed over the series matching want.
function buckets(fam, name, want) {
  const sum = new Map();
  for (const x of series(fam, name)) {
    if (!match(x.labels, want)) continue;
    for (const [le, c] of x.buckets) sum.set(String(le), (sum.get(String(le)) || 0) + c);
  }
  return sum;
}
// histogram_quantile over the window, as Prometheus computes it (linear within a bucket).
function quantile(q, name, want) {
  const a = oldest(), b = samples[samples.length - 1];
  if (!a || !b) return NaN;
  const now = buckets(b.fam, name, want), then = buckets(a.fam, name, want);
  const les = [...now.keys()].sort((x, y) => (x === "+Inf") - (y === "+Inf") || Number(x) - Number(y));
  const counts = les.map(le => now.get(le) - (then.get(le) || 0));
  const n = counts.length ? counts[counts.length - 1] : 0;
  if (!(n > 0)) return NaN;
  const rank = q * n;
  let prevLe = 0, prevCount = 0;
  for (let i = 0; i < les.length; i++) {
    if (counts[i] >= rank) {
      if (les[i] === "+Inf") return prevLe;
      const le = Number(les[i]);
      const inBucket = counts[i] - prevCount;
      return inBucket > 0 ? prevLe + (le - prevLe) * (rank - prevCount) / inBucket : le;
    }
    prevLe = les[i] === "+Inf" ? prevLe : Number(les[i]);
    prevCount = counts[i];
  }
  return prevLe;
}

// p50/p99 of one node's replies: sent to the node until its reply, over the window.
const NODE_LATENCY = "slotgate_backend_request_duration_seconds";
function nodeQuantile(q, address) { return quantile(q, NODE_LATENCY, {node: address}); }

// ---- formatting -----------------------------------------------------------------------------
function fmtRate(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
function fmtSeconds(s) {
  if (!isFinite(s)) return "–";
  if (s < 0.001) return (s * 1e6).toFixed(0) + " µs";
  if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms";
  return s.toFixed(2) + " s";
}
function fmtBytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
  return (n / 1048576).toFixed(1) + " MiB";
}
// How far a replica is behind its master, from the offsets of the last topology refresh.
function lagText(master, replica) {
  if (!(master.replication_offset >= 0) || !(replica.replication_offset >= 0)) return "lag ?";
  return "lag " + fmtBytes(Math.max(0, master.replication_offset - replica.replication_offset));
}
function fmtTime(iso) { return iso.replace("T", " ").replace(/\.\d+Z$/, "Z"); }

// ---- slot map and nodes -----------------------------------------------------------------------
function colorFor(id) {
  if (!masterColor.has(id)) masterColor.set(id, COLORS[masterColor.size % COLORS.length]);
  return masterColor.get(id);
}

function drawTopology() {
  const map = document.getElementById("slot-map");
  const body = document.querySelector("#nodes tbody");
  if (!topology) return;
  const nodes = topology.nodes || [];
  const masters = nodes.filter(n => n.role === "master" && n.slots.length > 0);
  const owner = [];  // [first, last, node]
  for (const m of masters) for (const [f, l] of m.slots) owner.push([f, l, m]);
  owner.sort((x, y) => x[0] - y[0]);
  // Slots a master is moving out (migrating) or taking in (importing), as the masters
  // report them: each drawn as its own band, wide enough to see, with its own pattern.
  const byId = new Map(nodes.map(n => [n.id, n]));
  // Both ends of one move may be reported, by different nodes in any order (the order of
  // /topology's nodes is not the order of the move): the source's side is named first and the
  // band is drawn as migrating whenever the source reports it.
  const marks = new Map();  // slot -> {kind, text}
  const peer = (id, addr) => addr || (byId.get(id) || {}).address || id.slice(0, 8);
  const ends = new Map();   // slot -> {out: [texts], in: [texts]}
  const endsOf = (slot) => { if (!ends.has(slot)) ends.set(slot, {out: [], in: []}); return ends.get(slot); };
  for (const n of nodes) {
    for (const x of n.migrating || []) {
      endsOf(x.slot).out.push(`migrating from ${n.address} to ${peer(x.to, x.to_address)}`);
    }
    for (const x of n.importing || []) {
      endsOf(x.slot).in.push(`importing into ${n.address} from ${peer(x.from, x.from_address)}`);
    }
  }
  for (const [slot, e] of ends) {
    marks.set(slot, {kind: e.out.length ? "migrating" : "importing", text: [...e.out, ...e.in].join("; ")});
  }
  const marked = [...marks.keys()].sort((a, b) => a - b);
  const parts = [];  // [first, last, master, mark]
  const pushSplit = (f, l, m) => {
    let from = f;
    for (const slot of marked) {
      if (slot < f || slot > l) continue;
      if (slot > from) parts.push([from, slot - 1, m, null]);
      parts.push([slot, slot, m, marks.get(slot)]);
      from = slot + 1;
    }
    if (from <= l) parts.push([from, l, m, null]);
  };
  let next = 0;
  for (const [f, l, m] of owner) {
    if (f > next) pushSplit(next, f - 1, null);
    pushSplit(f, l, m);
    next = l + 1;
  }
  if (next < 16384) pushSplit(next, 16383, null);
  map.replaceChildren(...parts.map(([f, l, m, mark]) => {
    const d = el("div", {class: "range" + (m ? "" : " uncovered") + (mark ? " " + mark.kind : ""),
                         title: (f === l ? "slot " + f : "slots " + f + "-" + l) +
                                (m ? " → " + m.address : " → no master") + (mark ? ", " + mark.text : "")});
    d.style.flexGrow = String(l - f + 1);
    if (mark) d.dataset.slot = String(f);
    if (m) { d.style.backgroundColor = colorFor(m.id || m.address); d.dataset.address = m.address; }
    d.addEventListener("mouseenter", () => { if (m) select(m.address); });
    return d;
  }));
  document.getElementById("slot-moves").textContent = marked.length
    ? marked.slice(0, 8).map(sl => `slot ${sl}: ${marks.get(sl).text}`).join(" · ") +
      (marked.length > 8 ? ` · … ${marked.length - 8} more` : "")
    : "";
  map.dataset.masters = String(masters.length);
  const covered = topology.slots_covered;
  document.getElementById("slot-summary").textContent =
    `${masters.length} masters · ${covered}/16384 slots covered · view v${topology.version}, ` +
    `${topology.age_seconds.toFixed(0)} s old`;

  const last = samples.length ? samples[samples.length - 1].fam : null;
  const req = rateByLabel("slotgate_backend_requests_total", "node");
  const errs = last ? byLabel(last, "slotgate_backend_errors_total", "node") : new Map();
  const recon = last ? byLabel(last, "slotgate_backend_reconnects_total", "node") : new Map();
  const conns = last ? byLabel(last, "slotgate_backend_connections", "node") : new Map();
  const rows = [];
  for (const m of masters.sort((a, b) => a.slots[0][0] - b.slots[0][0])) {
    const replicas = nodes.filter(n => n.role === "replica" && n.master_id && n.master_id === m.id);
    const nslots = m.slots.reduce((s, [f, l]) => s + l - f + 1, 0);
    const tr = el("tr", {class: "master" + (selected === m.address ? " selected" : ""), "data-address": m.address},
      el("td", null, el("span", {class: "swatch"})),
      el("td", {text: m.address}),
      el("td", {class: "num", text: String(nslots)}),
      el("td", {class: "health-" + m.health, text: m.health}),
      el("td", {text: replicas.length ? replicas.map(r => `${r.address} (${r.health !== "online" ? r.health + ", " : ""}${lagText(m, r)})`).join(", ") : "none"}),
      el("td", {class: "num", text: fmtRate(req.get(m.address) || 0)}),
      el("td", {class: "num", text: fmtSeconds(nodeQuantile(0.5, m.address))}),
      el("td", {class: "num", text: fmtSeconds(nodeQuantile(0.99, m.address))}),
      el("td", {class: "num", text: String(errs.get(m.address) || 0)}),
      el("td", {class: "num", text: String(recon.get(m.address) || 0)}),
      el("td", {class: "num", text: String(conns.get(m.address) || 0)}));
    tr.firstChild.firstChild.style.background = colorFor(m.id || m.address);
    tr.addEventListener("mouseenter", () => select(m.address));
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  if (selected) drawDetail();
}

function select(address) {
  selected = address;
  for (const tr of document.querySelectorAll("#nodes tr.master")) {
    tr.classList.toggle("selected", tr.dataset.address === address);
  }
  drawDetail();
}

function drawDetail() {
  const box = document.getElementById("node-detail");
  const nodes = (topology && topology.nodes) || [];
  const m = nodes.find(n => n.address === selected && n.role === "master");
  if (!m) { box.hidden = true; return; }
  const last = samples.length ? samples[samples.length - 1].fam : null;
  const replicas = nodes.filter(n => n.role === "replica" && n.master_id === m.id);
  const errors = last ? series(last, "slotgate_backend_errors_total").filter(x => x.labels.node === m.address) : [];
  const lastError = lastEvents.filter(e => e.message.includes(m.address) &&
      /unreachable|failed|removed|uncovered/.test(e.kind)).pop();
  const lines = [
    `master ${m.address}  id ${m.id || "?"}  health ${m.health}`,
    `replicas: ${replicas.length ? replicas.map(r => `${r.address} (${r.health}, ${lagText(m, r)})`).join(", ") : "none"}`,
    `connections from this slotgate: ${last ? (byLabel(last, "slotgate_backend_connections", "node").get(m.address) || 0) : "?"}`,
    `requests from this slotgate: ${fmtRate(rateByLabel("slotgate_backend_requests_total", "node").get(m.address) || 0)}/s`,
    `latency (sent to reply): p50 ${fmtSeconds(nodeQuantile(0.5, m.address))}, p99 ${fmtSeconds(nodeQuantile(0.99, m.address))}`,
    `slots moving: ${[...(m.migrating || []).map(x => `${x.slot} → ${x.to_address || x.to}`),
                      ...(m.importing || []).map(x => `${x.slot} ← ${x.from_address || x.from}`)].join(", ") || "none"}`,
    `errors: ${errors.length ? errors.map(x => `${x.labels.kind} ${x.value}`).join(", ") : "none"}`,
    `last error: ${lastError ? fmtTime(lastError.time) + " " + lastError.message : "none recorded"}`,
  ];
  box.textContent = lines.join("\n");
  box.hidden = false;
}

// ---- live traffic -----------------------------------------------------------------------------
function tile(label, value, cls) {
  return el("div", {class: "tile " + (cls || "")}, el("div", {class: "value", text: value}),
            el("div", {class: "label", text: label}));
}

function drawTraffic() {
  const last = samples[samples.length - 1].fam;
  const held = total(last, "slotgate_requests_held_now");
  let oldestHeld = 0;
  for (const x of series(last, "slotgate_requests_held_oldest_seconds")) oldestHeld = Math.max(oldestHeld, x.value);
  const unknown = total(last, "slotgate_outcome_unknown_total");
  const uncovered = total(last, "slotgate_slots_uncovered");
  const version = series(last, "slotgate_build_info").map(x => x.labels.version)[0];
  if (version) document.getElementById("version").textContent = "v" + version;
  document.getElementById("tiles").replaceChildren(
    tile("requests/s", fmtRate(rate("slotgate_commands_total"))),
    tile("p50 latency", fmtSeconds(quantile(0.5, "slotgate_command_duration_seconds"))),
    tile("p99 latency", fmtSeconds(quantile(0.99, "slotgate_command_duration_seconds"))),
    tile("client connections", String(total(last, "slotgate_client_connections"))),
    tile("requests held now", String(held), held > 0 ? "warn" : ""),
    tile("oldest held", held > 0 ? fmtSeconds(oldestHeld) : "–", oldestHeld > 1 ? "bad" : ""),
    tile("MOVED/s", fmtRate(rate("slotgate_redirections_total", {kind: "moved"}))),
    tile("ASK/s", fmtRate(rate("slotgate_redirections_total", {kind: "ask"}))),
    tile("outcome unknown", String(unknown), unknown > 0 ? "bad" : ""),
    tile("cluster errors/s", fmtRate(rate("slotgate_cluster_errors_total"))),
    tile("slots uncovered", String(uncovered), uncovered > 0 ? "bad" : ""),
    tile("view age", fmtSeconds(total(last, "slotgate_topology_view_age_seconds"))));

  const rates = rateByLabel("slotgate_commands_total", "command");
  const errRates = rateByLabel("slotgate_commands_total", "command", {result: "error"});
  const top = [...rates.entries()].filter(([, r]) => r > 0).sort((a, b) => b[1] - a[1]).slice(0, 10);
  document.querySelector("#commands tbody").replaceChildren(...top.map(([cmd, r]) => el("tr", null,
    el("td", {text: cmd}),
    el("td", {class: "num", text: fmtRate(r)}),
    el("td", {class: "num", text: fmtSeconds(quantile(0.5, "slotgate_command_duration_seconds", {command: cmd}))}),
    el("td", {class: "num", text: fmtSeconds(quantile(0.99, "slotgate_command_duration_seconds", {command: cmd}))}),
    el("td", {class: "num", text: fmtRate(errRates.get(cmd) || 0)}))));

  const nodeRates = rateByLabel("slotgate_backend_requests_total", "node");
  const nodeAddrs = [...new Set(series(last, NODE_LATENCY).map(x => x.labels.node))].sort();
  document.querySelector("#node-latency tbody").replaceChildren(...nodeAddrs.map(a => el("tr", {"data-node": a},
    el("td", {text: a}),
    el("td", {class: "num", text: fmtRate(nodeRates.get(a) || 0)}),
    el("td", {class: "num", text: fmtSeconds(nodeQuantile(0.5, a))}),
    el("td", {class: "num", text: fmtSeconds(nodeQuantile(0.99, a))}))));

  const status = document.getElementById("status");
  const bad = uncovered > 0 || held > 0;
  status.textContent = bad ? (uncovered > 0 ? uncovered + " slots uncovered" : "holding requests") : "healthy";
  status.className = "pill " + (bad ? (uncovered > 0 ? "bad" : "warn") : "ok");
}

// ---- events -----------------------------------------------------------------------------------
let lastEvents = [];
function drawEvents(doc) {
  lastEvents = doc.events || [];
  const newest = lastEvents.length ? lastEvents[lastEvents.length - 1].seq : 0;
  document.getElementById("event-count").textContent =
    `${doc.total} recorded, last ${lastEvents.length} kept`;
  if (newest === lastEventSeq) return;
  lastEventSeq = newest;
  document.getElementById("events").replaceChildren(...lastEvents.slice().reverse().map(e =>
    el("li", {"data-kind": e.kind},
       el("time", {dateTime: e.time, text: fmtTime(e.time)}),
       el("span", {class: "kind " + e.kind, text: e.kind.replace(/_/g, " ")}),
       el("span", {class: "message", text: e.message}))));
}

// ---- loop -------------------------------------------------------------------------------------
async function poll() {
  const status = document.getElementById("status");
  try {
    const [topo, stats, events] = await Promise.all([
      getJSON("/topology").catch(() => null), getJSON("/stats"), getJSON("/events")]);
    samples.push({t: stats.unix_ms, fam: stats.families});
    if (samples.length > WINDOW + 1) samples.shift();
    topology = topo;
    drawEvents(events);
    drawTraffic();
    drawTopology();
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (e) {
    status.textContent = "slotgate unreachable";
    status.className = "pill bad";
  }
  setTimeout(poll, POLL_MS);
}
poll();
