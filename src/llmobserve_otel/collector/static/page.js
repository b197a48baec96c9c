// The collector's page: the dashboards' panels, drawn from /api/v1/panels (the definitions' own SQL).
"use strict";

const RANGES = { "1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };
const FILTERS = ["service", "customer", "provider", "model"];
const COLORS = ["#4fb3ff", "#7ee0a1", "#ffb86b", "#c792ea", "#ff6b8b", "#5ce1e6", "#f7d774", "#9aa5ff"];
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const state = { dashboard: "", range: "7d", from: null, to: null, vars: {}, trace_id: "" };
let dashboards = [];
let charts = [];
let renders = 0;

function readUrl() {
  const q = new URLSearchParams(location.search);
  state.dashboard = q.get("dashboard") || "";
  if (q.get("from") && q.get("to")) {
    state.range = "custom";
    state.from = Number(q.get("from"));
    state.to = Number(q.get("to"));
  } else {
    state.range = q.get("range") || "7d";
  }
  for (const name of FILTERS) state.vars[name] = q.getAll(name).filter((v) => v && v !== "__all__");
  state.trace_id = q.get("trace_id") || "";
}

function writeUrl() {
  const q = new URLSearchParams();
  q.set("dashboard", state.dashboard);
  if (state.range === "custom") {
    q.set("from", state.from);
    q.set("to", state.to);
  } else q.set("range", state.range);
  for (const name of FILTERS) for (const v of state.vars[name]) q.append(name, v);
  if (state.trace_id) q.set("trace_id", state.trace_id);
  history.replaceState(null, "", "?" + q.toString() + location.hash);
}

function window_() {
  if (state.range === "custom") return [state.from, state.to];
  const to = Date.now();
  return [to - RANGES[state.range], to];
}

function queryString(extra) {
  const [from, to] = window_();
  const q = new URLSearchParams({ from, to });
  for (const name of FILTERS) for (const v of state.vars[name]) q.append(name, v);
  if (state.trace_id) q.set("trace_id", state.trace_id);
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  return q.toString();
}

async function api(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const response = await fetch(path, { headers });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// --- formatting ---

function money(v) {
  if (v === null || v === undefined) return "–";
  const a = Math.abs(v);
  if (a === 0) return "$0";
  if (a >= 1) return "$" + v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return "$" + Number(v.toPrecision(4)).toString();
}
function count(v) {
  return v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US", { maximumFractionDigits: 6 });
}
function fmt(v, unit) {
  return unit === "currencyUSD" ? money(v) : count(v);
}
function isMoneyColumn(name) {
  return /cost/.test(name);
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16);
}

// --- renderers, one per visualisation kind ---

const RENDER = {
  stat(body, panel, data) {
    const v = data.rows.length ? data.rows[0][data.columns.indexOf(panel.value)] : null;
    body.append(el("div", { class: "stat-value", "data-value": v === null ? "" : String(v) }, fmt(v, panel.unit)));
  },
  timeseries(body, panel, data) {
    const t = data.columns.indexOf("time");
    const s = data.columns.indexOf(panel.label);
    const y = data.columns.indexOf(panel.value);
    // One point per bucket for every series (0 where it had no calls), so the stack lines up.
    const times = [...new Set(data.rows.map((r) => r[t]))].sort((a, b) => a - b);
    const values = new Map();
    for (const row of data.rows) {
      if (!values.has(row[s])) values.set(row[s], new Map());
      values.get(row[s]).set(row[t], row[y]);
    }
    const series = new Map([...values].map(([name, byTime]) => [name, times.map((x) => [x, byTime.get(x) || 0])]));
    chart(body, {
      tooltip: { trigger: "axis", valueFormatter: (v) => fmt(v, panel.unit) },
      legend: { textStyle: { color: "#d8dee6" }, top: 0 },
      grid: { left: 60, right: 16, top: 30, bottom: 28 },
      xAxis: { type: "time", axisLabel: { color: "#8593a3" } },
      yAxis: { type: "value", axisLabel: { color: "#8593a3", formatter: (v) => fmt(v, panel.unit) }, splitLine: { lineStyle: { color: "#26303b" } } },
      series: [...series].map(([name, points]) => ({
        name: name || "(none)", type: "line", stack: "total", areaStyle: { opacity: 0.25 }, showSymbol: points.length < 30, data: points,
      })),
    });
  },
  barchart(body, panel, data) {
    const l = data.columns.indexOf(panel.label);
    const v = data.columns.indexOf(panel.value);
    const rows = [...data.rows].reverse();
    chart(body, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (x) => fmt(x, panel.unit) },
      grid: { left: 8, right: 70, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", axisLabel: { show: false }, splitLine: { show: false } },
      yAxis: { type: "category", data: rows.map((r) => r[l]), axisLabel: { color: "#d8dee6" } },
      series: [{
        type: "bar", data: rows.map((r) => r[v]), barMaxWidth: 22,
        itemStyle: { borderRadius: [0, 4, 4, 0], color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: "#4fb3ff" }, { offset: 1, color: "#7ee0a1" }]) },
        label: { show: true, position: "right", color: "#d8dee6", formatter: (p) => fmt(p.value, panel.unit) },
      }],
    });
  },
  piechart(body, panel, data) {
    const l = data.columns.indexOf(panel.label);
    const v = data.columns.indexOf(panel.value);
    chart(body, {
      tooltip: { trigger: "item", valueFormatter: (x) => fmt(x, panel.unit) },
      legend: { bottom: 0, textStyle: { color: "#d8dee6" } },
      series: [{
        type: "pie", radius: ["42%", "70%"], center: ["50%", "45%"], itemStyle: { borderColor: "#171d24", borderWidth: 2 },
        label: { color: "#d8dee6", lineHeight: 16, formatter: (p) => p.name + "\n" + fmt(p.value, panel.unit) },
        data: data.rows.map((r) => ({ name: r[l] || "(none)", value: r[v] })),
      }],
    });
  },
  table(body, panel, data) {
    if (!data.rows.length) return body.append(el("div", { class: "empty" }, "No rows in this range."));
    const link = data.columns.indexOf(panel.trace_link);
    const table = el("table", {}, el("tr", {}, ...data.columns.map((c) => el("th", {}, c))));
    data.rows.forEach((row, i) => {
      const tr = el("tr", { "data-row": String(i) });
      row.forEach((v, j) => {
        const name = data.columns[j];
        let cell;
        if (j === link) {
          cell = el("td", {}, el("a", { class: "trace", "data-trace": v, title: "Open this trace" }, v));
          cell.firstChild.addEventListener("click", () => openTrace(v));
        } else if (typeof v === "number") {
          const shown = /hour|time|start/.test(name) ? utc(v) : isMoneyColumn(name) ? money(v) : count(v);
          cell = el("td", { class: /hour|time|start/.test(name) ? "" : "num", "data-value": String(v) }, shown);
        } else cell = el("td", {}, v === "" ? "–" : v);
        tr.append(cell);
      });
      table.append(tr);
    });
    body.append(table);
  },
  tree(body, panel, data) {
    if (!data.rows.length) return body.append(el("div", { class: "empty" }, "No calls in this range."));
    const c = (name) => data.columns.indexOf(name);
    const nodes = new Map();
    const roots = [];
    for (const row of data.rows) {
      const path = row[c("section")];
      const node = { path, name: path.split("/").pop(), cost: row[c("cost")], self: row[c("self_cost")], calls: row[c("n_calls")], children: [] };
      nodes.set(path, node);
      const parent = nodes.get(path.split("/").slice(0, -1).join("/"));
      (parent ? parent.children : roots).push(node);
    }
    const max = Math.max(...roots.map((n) => n.cost), 1e-12);
    const draw = (node) => {
      const [kind, name] = node.name.includes(":") ? node.name.split(/:(.*)/s) : ["", node.name];
      const details = el("details", { class: "tree-node" + (node.children.length ? "" : " leaf"), open: true, "data-path": node.path, "data-cost": String(node.cost) },
        el("summary", {},
          el("span", { class: "name" }, kind ? el("span", { class: "kind" }, kind) : "", name),
          el("div", { class: "bar", title: "own calls: " + money(node.self) }, el("div", { style: "" })),
          el("span", { class: "cost" }, money(node.cost)),
          el("span", { class: "calls" }, count(node.calls) + (node.calls === 1 ? " call" : " calls"))));
      details.querySelector(".bar > div").style.width = (100 * node.cost / max).toFixed(1) + "%";
      node.children.sort((a, b) => b.cost - a.cost).forEach((child) => details.append(draw(child)));
      return details;
    };
    const tree = el("div", { class: "tree" });
    roots.sort((a, b) => b.cost - a.cost).forEach((n) => tree.append(draw(n)));
    body.append(tree);
  },
  spans(body, panel, data) {
    if (!state.trace_id) return body.append(el("div", { class: "empty" }, "Pick a trace above (or paste its id in the Trace filter)."));
    if (!data.rows.length) return body.append(el("div", { class: "empty" }, "No spans for this trace."));
    const c = (name) => data.columns.indexOf(name);
    const byParent = new Map();
    const ids = new Set(data.rows.map((r) => r[c("span_id")]));
    for (const row of data.rows) {
      const parent = ids.has(row[c("parent_id")]) ? row[c("parent_id")] : "";
      if (!byParent.has(parent)) byParent.set(parent, []);
      byParent.get(parent).push(row);
    }
    const t0 = Math.min(...data.rows.map((r) => r[c("start")]));
    const t1 = Math.max(...data.rows.map((r) => r[c("start")] + r[c("duration_ms")]));
    const total = Math.max(t1 - t0, 1);
    const table = el("table", { class: "spans" }, el("tr", {}, ...["span", "service", "model", "timeline", "duration", "self cost", "subtree cost"].map((h) => el("th", {}, h))));
    const walk = (parent, depth) => {
      for (const row of (byParent.get(parent) || []).sort((a, b) => a[c("start")] - b[c("start")])) {
        const track = el("div", { class: "track" }, el("div", { class: row[c("self_cost")] > 0 ? "priced" : "" }));
        track.firstChild.style.left = (100 * (row[c("start")] - t0) / total).toFixed(2) + "%";
        track.firstChild.style.width = (100 * row[c("duration_ms")] / total).toFixed(2) + "%";
        const name = row[c("span")].trim();
        const tr = el("tr", { class: "span-row", "data-span": name, "data-subtree-cost": String(row[c("subtree_cost")]) },
          el("td", { class: "name" }, "\u00a0".repeat(depth * 3) + name),
          el("td", {}, row[c("service")]),
          el("td", {}, [row[c("provider")], row[c("model")]].filter(Boolean).join(" / ") || "–"),
          el("td", {}, track),
          el("td", { class: "num" }, count(row[c("duration_ms")]) + " ms"),
          el("td", { class: "num" }, row[c("self_cost")] ? money(row[c("self_cost")]) : "–"),
          el("td", { class: "num" }, money(row[c("subtree_cost")])));
        table.append(tr);
        walk(row[c("span_id")], depth + 1);
      }
    };
    walk("", 0);
    body.append(table);
  },
};

function chart(body, option) {
  const div = el("div", { class: "chart" });
  body.append(div);
  const instance = echarts.init(div, null, { renderer: "canvas" });
  instance.setOption({ color: COLORS, backgroundColor: "transparent", animation: false, ...option });
  charts.push(instance);
}

// --- page ---

function openTrace(id) {
  state.trace_id = id;
  state.dashboard = "llmobserve-trace-explorer";
  document.getElementById("var-trace_id").value = id;
  render();
}

async function loadOptions() {
  await Promise.all(FILTERS.map(async (name) => {
    const select = document.getElementById("var-" + name);
    let options = [];
    try {
      options = (await api("api/v1/variables/" + name + "?" + queryString())).options;
    } catch (err) {
      document.getElementById("status").textContent = err.message;
    }
    const chosen = state.vars[name];
    for (const v of chosen) if (!options.includes(v)) options.push(v);
    select.replaceChildren(el("option", { value: "" }, "All"), ...options.map((o) => el("option", { value: o }, o)));
    select.value = chosen[0] || "";
  }));
}

async function renderPanel(panel, card) {
  const body = card.querySelector(".body");
  try {
    const data = await api("api/v1/panels/" + state.dashboard + "/" + panel.key + "?" + queryString());
    body.replaceChildren();
    RENDER[panel.viz](body, panel, data);
    card.setAttribute("data-elapsed-ms", data.elapsed_ms);
  } catch (err) {
    body.replaceChildren(el("div", { class: "error" }, err.message));
  }
}

async function render() {
  writeUrl();
  document.body.dataset.ready = "0";
  for (const c of charts) c.dispose();
  charts = [];
  const board = dashboards.find((d) => d.uid === state.dashboard) || dashboards[0];
  state.dashboard = board.uid;
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.uid === board.uid);
  document.getElementById("filters").classList.toggle("traces", board.variables.includes("trace_id"));
  document.getElementById("filters").classList.toggle("custom-range", state.range === "custom");
  document.getElementById("description").textContent = board.description;
  const grid = document.getElementById("grid");
  grid.replaceChildren();
  const jobs = board.panels.map((panel) => {
    const card = el("div", { class: "panel", "data-panel": panel.key, title: panel.description },
      el("h2", {}, panel.title), el("div", { class: "body" }, el("div", { class: "empty" }, "Loading…")));
    card.style.gridColumn = "span " + panel.width;
    card.style.minHeight = panel.height * 34 + "px";
    grid.append(card);
    return renderPanel(panel, card);
  });
  const [from, to] = window_();
  document.getElementById("status").textContent = utc(from) + " → " + utc(to) + " UTC";
  await Promise.all(jobs);
  renders += 1;
  document.body.dataset.renders = String(renders);
  document.body.dataset.ready = "1";
}

function toLocalInput(ms) {
  return new Date(ms).toISOString().slice(0, 16);
}

function bind() {
  const range = document.getElementById("range");
  const from = document.getElementById("from");
  const to = document.getElementById("to");
  range.value = state.range;
  const [f, t] = window_();
  from.value = toLocalInput(f);
  to.value = toLocalInput(t);
  range.addEventListener("change", async () => {
    state.range = range.value;
    if (state.range === "custom") {
      state.from = Date.parse(from.value + "Z");
      state.to = Date.parse(to.value + "Z");
    }
    await loadOptions();
    render();
  });
  for (const input of [from, to]) {
    input.addEventListener("change", async () => {
      state.range = "custom";
      range.value = "custom";
      state.from = Date.parse(from.value + "Z");
      state.to = Date.parse(to.value + "Z");
      await loadOptions();
      render();
    });
  }
  for (const name of FILTERS) {
    document.getElementById("var-" + name).addEventListener("change", (e) => {
      state.vars[name] = e.target.value ? [e.target.value] : [];
      render();
    });
  }
  const trace = document.getElementById("var-trace_id");
  trace.value = state.trace_id;
  trace.addEventListener("change", () => {
    state.trace_id = trace.value.trim();
    render();
  });
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
}

async function main() {
  readUrl();
  try {
    dashboards = (await api("api/v1/dashboards")).dashboards;
  } catch (err) {
    document.getElementById("status").textContent = err.message;
    return;
  }
  const nav = document.getElementById("tabs");
  for (const board of dashboards) {
    const button = el("button", { "data-uid": board.uid }, board.title.replace(/^LLM /, ""));
    button.addEventListener("click", () => {
      state.dashboard = board.uid;
      render();
    });
    nav.append(button);
  }
  bind();
  await loadOptions();
  await render();
}

main();
