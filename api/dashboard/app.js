// The options bot dashboard. Plain script, no build step, nothing fetched from the internet.
// Signs in by exchanging the API token for an HttpOnly session cookie (the token is never kept);
// keeps only the CSRF token, in memory. Live updates come over the WebSocket (no polling): the
// snapshot, its status (stale banner) and audit entries; the order queue and the proposals are
// re-read when an audit entry says they changed. Every value is written with textContent.
"use strict";

const state = { csrf: null, ws: null, signedIn: false, charts: null, correlation: "", reconnect: null };
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf || "";
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    return { status: 0, ok: false, data: { detail: String(error) } };
  }
  let data = null;
  try { data = await response.json(); } catch (error) { data = null; }
  if (response.status === 401 && state.signedIn) signedOut("Your session ended: sign in again.");
  return { status: response.status, ok: response.ok, data };
}

function detail(result) {
  const d = result.data && result.data.detail;
  if (typeof d === "string") return d;
  return d ? JSON.stringify(d) : `HTTP ${result.status}`;
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "-" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fmt(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "-";
  return Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function signClass(value) { return value < 0 ? "num neg" : value > 0 ? "num pos" : "num"; }

// -- sign in / out ---------------------------------------------------------------------------

function showSignIn(message) {
  $("signin").hidden = false;
  $("dashboard").hidden = true;
  $("sign-out").hidden = true;
  $("signin-error").textContent = message || "";
}

function signedOut(message) {
  state.signedIn = false;
  state.csrf = null;
  if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
  showSignIn(message);
}

async function signIn(event) {
  event.preventDefault();
  const input = $("token");
  const result = await api("POST", "/api/v1/session", { token: input.value });
  input.value = "";
  if (!result.ok) { $("signin-error").textContent = `Sign-in failed: ${detail(result)}`; return; }
  state.csrf = result.data.csrf_token;
  await start();
}

async function signOut() {
  await api("DELETE", "/api/v1/session");
  signedOut("Signed out.");
}

// -- rendering -------------------------------------------------------------------------------

function renderMeta(meta) {
  const banner = $("stale-banner");
  if (!meta || meta.status === "fresh") {
    banner.hidden = true;
  } else {
    const age = meta.age_seconds === null || meta.age_seconds === undefined ? "" :
      ` (last update ${Math.round(meta.age_seconds)} s ago)`;
    banner.textContent = `The state snapshot is ${meta.status}${age}: the algorithm may have stopped. ` +
      "What you see may be out of date.";
    banner.hidden = false;
  }
  $("snapshot-info").textContent = meta && meta.algorithm_time ? `algorithm time ${meta.algorithm_time}` : "";
}

function renderTradingState(doc) {
  const tradingState = (doc.risk && doc.risk.trading_state) || "unknown";
  const badge = $("trading-state");
  badge.textContent = tradingState;
  badge.className = `badge ${tradingState}`;
}

function renderPositions(doc) {
  const body = $("positions").tBodies[0];
  const rows = document.createDocumentFragment();
  for (const p of doc.positions || []) {
    if (p.status === "closed") continue;
    const tr = document.createElement("tr");
    tr.dataset.positionId = p.id;
    cell(tr, p.symbol);
    cell(tr, p.quantity, "num");
    cell(tr, fmt(p.entry_price), "num");
    cell(tr, fmt(p.mark_price), "num");
    cell(tr, fmt(p.unrealized_pnl), signClass(p.unrealized_pnl));
    cell(tr, fmt(p.delta, 3), "num");
    cell(tr, fmt(p.gamma, 4), "num");
    cell(tr, fmt(p.daily_theta_decay), signClass(p.daily_theta_decay));
    cell(tr, fmt(p.vega, 3), "num");
    cell(tr, p.iv === null || p.iv === undefined ? "-" : `${fmt(p.iv * 100, 1)} %`, "num");
    cell(tr, p.greeks_source);
    rows.appendChild(tr);
  }
  body.replaceChildren(rows);
}

function limitRows(doc) {
  const risk = doc.risk || {};
  const limits = risk.limits || {};
  const breaker = risk.circuit_breaker || {};
  const greeks = doc.portfolio_greeks || {};
  const slip = doc.slippage || {};
  const open = (doc.positions || []).filter((p) => p.status !== "closed").length;
  const start = breaker.session_start_equity;
  const last = breaker.last_equity;
  const hwm = breaker.high_watermark;
  const dailyLoss = start ? Math.max(0, (start - last) / start) : null;
  const drawdown = hwm ? Math.max(0, (hwm - last) / hwm) : null;
  return [
    ["Dollar delta", greeks.dollar_delta, limits.max_abs_dollar_delta, 0, true],
    ["Vega (USD per vol point)", greeks.vega, limits.max_abs_vega, 0, true],
    ["Gamma", greeks.gamma, null, 3, false],
    ["Theta per day (USD)", greeks.daily_theta, null, 2, false],
    ["Open positions", open, limits.max_open_positions, 0, false],
    ["Orders today", risk.orders_today, limits.max_daily_orders, 0, false],
    ["Daily loss (%)", dailyLoss === null ? null : dailyLoss * 100,
      limits.max_daily_loss_pct === undefined ? null : limits.max_daily_loss_pct * 100, 2, false],
    ["Drawdown (%)", drawdown === null ? null : drawdown * 100,
      limits.max_drawdown_pct === undefined ? null : limits.max_drawdown_pct * 100, 2, false],
    ["Slippage spent (USD)", slip.session_total_usd, slip.max_per_session_usd, 2, false],
  ];
}

function renderLimits(doc) {
  const body = $("limits").tBodies[0];
  const rows = document.createDocumentFragment();
  for (const [name, now, limit, digits, absolute] of limitRows(doc)) {
    const tr = document.createElement("tr");
    cell(tr, name);
    cell(tr, fmt(now, digits), "num");
    cell(tr, limit === null || limit === undefined ? "-" : fmt(limit, digits), "num");
    let headroom = null;
    if (limit !== null && limit !== undefined && now !== null && now !== undefined) {
      headroom = limit - (absolute ? Math.abs(now) : now);
    }
    cell(tr, headroom === null ? "-" : fmt(headroom, digits), headroom !== null && headroom < 0 ? "num neg" : "num");
    rows.appendChild(tr);
  }
  body.replaceChildren(rows);
}

function ensureCharts() {
  if (state.charts || !window.LightweightCharts) return state.charts;
  const options = { autoSize: true, layout: { background: { color: "#182029" }, textColor: "#e6e9ed" },
    grid: { vertLines: { color: "#2d3743" }, horzLines: { color: "#2d3743" } }, timeScale: { timeVisible: true } };
  const equity = LightweightCharts.createChart($("equity-chart"), options);
  const drawdown = LightweightCharts.createChart($("drawdown-chart"), options);
  state.charts = {
    equity: equity.addSeries(LightweightCharts.LineSeries, { color: "#2f81f7", lineWidth: 2 }),
    drawdown: drawdown.addSeries(LightweightCharts.AreaSeries, { lineColor: "#e5534b",
      topColor: "rgba(229,83,75,0.05)", bottomColor: "rgba(229,83,75,0.4)" }),
  };
  return state.charts;
}

function renderEquity(doc) {
  const charts = ensureCharts();
  if (!charts) return;
  const points = [];
  let peak = -Infinity;
  const drawdown = [];
  for (const [when, value] of doc.equity_history || []) {
    const time = Math.floor(Date.parse(when) / 1000);
    if (!Number.isFinite(time) || (points.length && time <= points[points.length - 1].time)) continue;
    points.push({ time, value });
    peak = Math.max(peak, value);
    drawdown.push({ time, value: peak > 0 ? -((peak - value) / peak) * 100 : 0 });
  }
  charts.equity.setData(points);
  charts.drawdown.setData(drawdown);
}

function renderSnapshot(doc, meta) {
  renderMeta(meta);
  if (!doc) return;
  renderTradingState(doc);
  renderPositions(doc);
  renderLimits(doc);
  renderEquity(doc);
}

function orderSummary(request) {
  const order = request.order;
  if (order) {
    return `${order.side} ${order.quantity} ${order.underlying} ${order.expiry} ${order.strike} ${order.right}` +
      (order.limit_price !== null && order.limit_price !== undefined ? ` @ ${order.limit_price}` : "");
  }
  return request.target_request_id ? `cancel ${request.target_request_id}` : (request.reason || "");
}

async function loadOrders() {
  const result = await api("GET", "/api/v1/orders?limit=50");
  if (!result.ok) return;
  const rows = document.createDocumentFragment();
  for (const item of result.data.items) {
    const tr = document.createElement("tr");
    cell(tr, item.request_id);
    cell(tr, item.state);
    cell(tr, item.request.action);
    cell(tr, orderSummary(item.request));
    cell(tr, item.request.actor);
    rows.appendChild(tr);
  }
  $("orders").tBodies[0].replaceChildren(rows);
}

function proposalId(p) { return p.proposal_id || p.id; }

async function decide(proposal, verdict) {
  const approver = $("actor").value.trim();
  if (!approver) { $("control-result").textContent = "Type your name first (it goes to the audit trail)."; return; }
  const id = proposalId(proposal);
  const body = verdict === "approve" ?
    { approver, order_digest: (proposal.preview && proposal.preview.order_digest) || proposal.order_digest } :
    { approver, reason: $("reason").value.trim() || "rejected from the dashboard" };
  const result = await api("POST", `/api/v1/proposals/${encodeURIComponent(id)}/${verdict}`, body);
  $("control-result").textContent = result.ok ? `Proposal ${id}: ${verdict === "approve" ? "approved" : "rejected"}.` :
    `Proposal ${id}: ${detail(result)}`;
  await loadProposals();
  await loadOrders();
}

async function loadProposals() {
  const result = await api("GET", "/api/v1/proposals?status=pending");
  const list = $("proposals");
  if (!result.ok) { list.replaceChildren(); $("proposals-empty").textContent = "Proposals are not available."; return; }
  const items = Array.isArray(result.data) ? result.data : (result.data.items || []);
  const rows = document.createDocumentFragment();
  for (const proposal of items) {
    const li = document.createElement("li");
    const id = proposalId(proposal);
    const text = document.createElement("span");
    text.textContent = `${id} - ${proposal.agent || proposal.actor || ""}: ${proposal.summary || proposal.kind || ""}`;
    const approve = document.createElement("button");
    approve.type = "button";
    approve.textContent = "Approve";
    approve.setAttribute("aria-label", `Approve proposal ${id}`);
    approve.addEventListener("click", () => decide(proposal, "approve"));
    const reject = document.createElement("button");
    reject.type = "button";
    reject.className = "secondary";
    reject.textContent = "Reject";
    reject.setAttribute("aria-label", `Reject proposal ${id}`);
    reject.addEventListener("click", () => decide(proposal, "reject"));
    li.append(text, approve, reject);
    rows.appendChild(li);
  }
  list.replaceChildren(rows);
  $("proposals-empty").textContent = items.length ? "" : "None.";
}

function auditRow(entry) {
  const tr = document.createElement("tr");
  cell(tr, entry.timestamp);
  cell(tr, entry.action);
  cell(tr, entry.description);
  cell(tr, entry.actor);
  cell(tr, entry.correlation_id);
  return tr;
}

async function loadAudit() {
  const query = state.correlation ? `&correlation_id=${encodeURIComponent(state.correlation)}` : "";
  const result = await api("GET", `/api/v1/audit?limit=100${query}`);
  if (!result.ok) return;
  const rows = document.createDocumentFragment();
  for (const entry of result.data.items.slice().reverse()) rows.appendChild(auditRow(entry));
  $("audit").tBodies[0].replaceChildren(rows);
}

function onAudit(entries) {
  const body = $("audit").tBodies[0];
  let orders = false;
  let proposals = false;
  for (const entry of entries) {
    if (!state.correlation || entry.correlation_id === state.correlation) body.prepend(auditRow(entry));
    orders = orders || entry.action.startsWith("order.") || entry.resource_type === "inbox_request";
    proposals = proposals || entry.action.includes("proposal");
  }
  while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
  if (orders) loadOrders();
  if (proposals) loadProposals();
}

// -- live updates ----------------------------------------------------------------------------

async function connect() {
  if (!state.signedIn) return;
  const ticket = await api("POST", "/api/v1/ws/ticket");
  if (!ticket.ok) { scheduleReconnect(); return; }
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`);
  state.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", ticket: ticket.data.ticket }));
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "snapshot") renderSnapshot(message.data, message.meta);
    else if (message.type === "status") renderMeta(message.meta);
    else if (message.type === "audit") onAudit(message.entries);
  };
  ws.onclose = () => { state.ws = null; scheduleReconnect(); };
}

function scheduleReconnect() {
  if (!state.signedIn || state.reconnect) return;
  state.reconnect = setTimeout(() => { state.reconnect = null; connect(); }, 2000);
}

async function control(kind) {
  const actor = $("actor").value.trim();
  const reason = $("reason").value.trim();
  if (!actor || !reason) { $("control-result").textContent = "Your name and a reason are required."; return; }
  const result = await api("POST", `/api/v1/trading/${kind}`, { actor, actor_type: "human", reason });
  $("control-result").textContent = result.ok ?
    `${kind === "halt" ? "Halt" : "Resume"} request queued (${result.data.request_id}); the algorithm acts on it at its next inbox poll.` :
    `${kind} refused: ${detail(result)}`;
  if (result.ok) loadOrders();
}

async function start() {
  state.signedIn = true;
  $("signin").hidden = true;
  $("dashboard").hidden = false;
  $("sign-out").hidden = false;
  const snapshot = await api("GET", "/api/v1/state");
  if (snapshot.ok) renderSnapshot(snapshot.data.data, snapshot.data.meta);
  await Promise.all([loadOrders(), loadProposals(), loadAudit()]);
  connect();
}

async function boot() {
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("halt").addEventListener("click", () => control("halt"));
  $("resume").addEventListener("click", () => control("resume"));
  $("audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.correlation = $("correlation").value.trim();
    loadAudit();
  });
  const session = await api("GET", "/api/v1/session");
  if (session.ok) { state.csrf = session.data.csrf_token; await start(); } else showSignIn();
}

document.addEventListener("DOMContentLoaded", boot);
