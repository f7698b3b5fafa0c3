// weir's live dashboard: polls the admin API of the server it came from
// once a second and shows, per pipeline, its graph (source, stages, sinks),
// charts of its monitor's series (uPlot), its alarms, and its last errors
// and dead letters. With `#token=T` in the address, every /api request
// carries `Authorization: Bearer T`.
//
// For tests: window.weirDashboard = { ready, points(), stages() }.
"use strict";

(function () {
  const PERIOD_MS = 1000; // one refresh a second
  const FETCH_TIMEOUT_MS = 5000;
  const ROWS = 10; // errors and dead letters shown
  const EVENTS = 10; // alarm events shown
  const COLORS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];

  const root = document.getElementById("pipelines");
  const notice = document.getElementById("notice");
  const updated = document.getElementById("updated");
  const views = new Map(); // pipeline name -> view (below)

  const dashboard = {
    ready: false,
    points() {
      let n = 0;
      for (const v of views.values()) for (const c of v.charts.values()) n += c.points;
      return n;
    },
    stages() {
      return Array.from(root.querySelectorAll("[data-stage]"), (el) => el.dataset.stage);
    },
  };
  window.weirDashboard = dashboard;

  // ---- helpers -------------------------------------------------------------

  // h("div", {class: "x"}, child, "text", …): an element; text is never parsed as HTML.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  function token() {
    return new URLSearchParams(location.hash.slice(1)).get("token");
  }

  // weir answered with an error status.
  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // weir did not answer (or not in time).
  class NetError extends Error {}

  // GET an /api path (relative to the page, so a proxy prefix works).
  async function api(path) {
    const headers = { Accept: "application/json" };
    const t = token();
    if (t) headers.Authorization = "Bearer " + t;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
    try {
      let res;
      try {
        res = await fetch("api/" + path, { headers, signal: abort.signal, cache: "no-store" });
      } catch (e) {
        throw new NetError(e.name === "AbortError" ? "no answer in " + FETCH_TIMEOUT_MS / 1000 + " s" : "no connection");
      }
      if (!res.ok) {
        let msg = res.statusText;
        try {
          msg = (await res.json()).error || msg;
        } catch (_) {
          // not JSON: keep the status text
        }
        throw new HttpError(res.status, msg);
      }
      try {
        return await res.json();
      } catch (e) {
        throw new NetError("an answer to " + path + " that is not JSON");
      }
    } finally {
      clearTimeout(timer);
    }
  }

  const pipePath = (name, rest) => "pipelines/" + encodeURIComponent(name) + "/" + rest;

  const num = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
  const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

  function fmtSeconds(s) {
    if (s < 0.001) return num.format(s * 1e6) + " µs";
    if (s < 1) return num.format(s * 1e3) + " ms";
    if (s < 120) return num.format(s) + " s";
    return num.format(s / 60) + " min";
  }

  function fmtBytes(b) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(b) >= 1024 && i < units.length - 1) {
      b /= 1024;
      i++;
    }
    return (i ? num.format(b) : int.format(b)) + " " + units[i];
  }

  // A value in one of the monitor's units, for people.
  function fmt(unit, v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    switch (unit) {
      case "records/s":
        return (Math.abs(v) >= 100 ? int.format(v) : num.format(v)) + "/s";
      case "ratio":
        return num.format(v * 100) + " %";
      case "bytes":
        return fmtBytes(v);
      case "records":
        return int.format(v);
      case "ms":
        return fmtSeconds(v / 1000);
      case "s":
        return fmtSeconds(v);
      default:
        return num.format(v) + (unit ? " " + unit : "");
    }
  }

  // The unit of a metric when the API does not say.
  function unitOf(metric) {
    if (metric === "error_ratio") return "ratio";
    if (metric === "in_flight_bytes") return "bytes";
    if (metric === "lag") return "records";
    if (metric === "iterator_age") return "ms";
    if (/^(latency_|write_)/.test(metric)) return "s";
    return "records/s";
  }

  const pad = (n) => String(n).padStart(2, "0");
  function fmtTime(ms) {
    if (typeof ms !== "number") return "–";
    const d = new Date(ms);
    const hms = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    if (Date.now() - ms < 20 * 3600 * 1000) return hms;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hms;
  }

  function fmtAgo(ms) {
    if (typeof ms !== "number") return "";
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }

  function shortDigest(d) {
    if (!d) return "";
    const hex = String(d).replace(/^sha256:/, "");
    return hex.slice(0, 12);
  }

  // "metric" or "metric · stage X" or "metric · sink Y".
  function where(o) {
    if (o.stage) return o.metric + " · stage " + o.stage;
    if (o.sink) return o.metric + " · sink " + o.sink;
    return o.metric;
  }

  // A table with a header row, or a short note when there are no rows.
  function table(cols, rows, empty) {
    if (!rows.length) return h("p", { class: "empty" }, empty);
    return h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)))),
        h("tbody", {}, rows)
      )
    );
  }

  function clip(s, n) {
    if (s === null || s === undefined) return "";
    s = String(s);
    return s.length > n ? s.slice(0, n) + "…" : s;
  }

  // A cell whose whole text is in its tooltip when cut.
  function cell(text, n, cls) {
    const full = text === null || text === undefined ? "" : String(text);
    return h("td", { class: cls, title: full.length > n ? full : null }, clip(full, n));
  }

  // ---- one pipeline ----------------------------------------------------------

  // A view is the pipeline's section plus what was last drawn in each part,
  // so a part is rebuilt only when its data changed.
  function viewFor(name) {
    let v = views.get(name);
    if (v) return v;
    const parts = {
      graph: h("div", { class: "graph" }),
      stats: h("div", { class: "stats" }),
      charts: h("div", { class: "charts" }),
      alarms: h("div", {}),
      events: h("div", {}),
      errors: h("div", {}),
      letters: h("div", {}),
    };
    const title = h("h2", {}, name);
    const badge = h("span", { class: "badge" });
    const alarmBadge = h("span", { class: "badge firing", hidden: true });
    const el = h(
      "section",
      { class: "pipeline", "data-pipeline": name },
      h("div", { class: "pipeline-head" }, title, badge, alarmBadge),
      parts.graph,
      parts.stats,
      parts.charts,
      h(
        "div",
        { class: "cols" },
        h("div", { class: "panel" }, h("h3", {}, "Alarms"), parts.alarms),
        h("div", { class: "panel" }, h("h3", {}, "Alarm events"), parts.events)
      ),
      h("div", { class: "panel" }, h("h3", {}, "Last errors"), parts.errors),
      h("div", { class: "panel" }, h("h3", {}, "Last dead letters"), parts.letters)
    );
    v = { name, el, badge, alarmBadge, parts, drawn: {}, charts: new Map() };
    views.set(name, v);
    // In the page at once, so the charts get their width; refresh() orders the sections.
    for (const p of root.querySelectorAll(":scope > p.empty")) p.remove();
    root.append(el);
    return v;
  }

  // Calls draw(data) when data differs from what the part last showed.
  function part(v, key, data, draw) {
    const s = JSON.stringify(data === undefined ? null : data);
    if (v.drawn[key] === s) return;
    v.drawn[key] = s;
    draw(data);
  }

  function drawGraph(v, p) {
    const box = (cls, testid, dataset, title, ...lines) =>
      h("div", { class: "node " + cls, "data-testid": testid, dataset, title }, lines);
    const arrow = () => h("div", { class: "arrow", "aria-hidden": "true" });
    const src = (p.source && p.source.type) || "source";
    const nodes = [box("source", "source", null, null, h("div", { class: "node-kind" }, "source"), h("div", { class: "node-name" }, src))];
    for (const s of p.stages || []) {
      const loaded = typeof s.loaded_at_ms === "number" ? "loaded " + fmtTime(s.loaded_at_ms) : "";
      const tip = [s.digest, loaded].filter(Boolean).join("\n") || null;
      nodes.push(arrow());
      nodes.push(
        box(
          "stage",
          "stage-" + s.stage,
          { stage: s.stage },
          tip,
          h("div", { class: "node-kind" }, s.kind || "stage"),
          h("div", { class: "node-name" }, s.stage),
          h("div", { class: "node-plugin" }, s.plugin || "?", s.version !== undefined && s.version !== null ? h("span", { class: "version" }, " v" + s.version) : null),
          s.digest ? h("div", { class: "digest" }, shortDigest(s.digest)) : null,
          s.shadow ? h("div", { class: "tag" }, "shadow " + shortDigest(s.shadow.digest)) : null
        )
      );
    }
    nodes.push(arrow());
    const sinks = (p.sinks || []).map((k) =>
      box("sink", "sink-" + k.name, null, null, h("div", { class: "node-kind" }, k.type || "sink"), h("div", { class: "node-name" }, k.name))
    );
    nodes.push(h("div", { class: "sinks" }, sinks.length ? sinks : h("div", { class: "node sink empty" }, "no sinks")));
    v.parts.graph.replaceChildren(...nodes);
  }

  // The last value that is not null.
  function last(values) {
    for (let i = (values || []).length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
    return null;
  }

  function drawStats(v, series) {
    if (!series) {
      v.parts.stats.replaceChildren();
      return;
    }
    const want = [
      ["records_in", "in"],
      ["records_out", "out"],
      ["filtered", "filtered"],
      ["failed", "failed"],
      ["dead_letters", "dead letters"],
      ["error_ratio", "error ratio"],
      ["in_flight_bytes", "in flight"],
      ["lag", "lag"],
      ["iterator_age", "iterator age"],
    ];
    const tiles = [];
    for (const [name, label] of want) {
      const s = series.series.find((x) => x.name === name && !x.stage && !x.sink);
      if (!s) continue;
      tiles.push(h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, fmt(s.unit || unitOf(name), last(s.values)))));
    }
    v.parts.stats.replaceChildren(...tiles);
  }

  // The charts a series reply makes: [{id, title, lines: [{label, values, dash, color}], unit, scale}].
  function chartSpecs(series) {
    const find = (name) => series.series.filter((x) => x.name === name);
    const pipe = (name) => series.series.find((x) => x.name === name && !x.stage && !x.sink);
    const specs = [];
    const add = (id, title, unit, lines) => {
      lines = lines.filter((l) => l && l.values);
      if (lines.length) specs.push({ id, title, unit, lines });
    };
    const line = (s, label, color, dash, scale) => s && { label, values: s.values, color, dash, scale: scale || 1 };

    add("throughput", "Throughput (records/s)", "records/s", [
      line(pipe("records_in"), "in", COLORS[0]),
      line(pipe("records_out"), "out", COLORS[1]),
    ]);
    add("outcomes", "Filtered, failed, dead letters (records/s)", "records/s", [
      line(pipe("filtered"), "filtered", COLORS[2]),
      line(pipe("failed"), "failed", COLORS[3]),
      line(pipe("dead_letters"), "dead letters", COLORS[4]),
    ]);
    // Latency in milliseconds: per stage p50 solid and p99 dashed in one
    // colour, then each sink's write p99.
    const lat = [];
    const stages = [];
    for (const s of find("latency_p50").concat(find("latency_p99"))) if (s.stage && !stages.includes(s.stage)) stages.push(s.stage);
    stages.forEach((st, i) => {
      const c = COLORS[i % COLORS.length];
      lat.push(line(find("latency_p50").find((x) => x.stage === st), st + " p50", c, null, 1000));
      lat.push(line(find("latency_p99").find((x) => x.stage === st), st + " p99", c, [6, 4], 1000));
    });
    find("write_p99").forEach((s, i) => {
      lat.push(line(s, "sink " + (s.sink || "?") + " write p99", COLORS[(stages.length + i) % COLORS.length], [2, 3], 1000));
    });
    add("latency", "Plugin latency (ms)", "ms", lat);
    add("lag", "Consumer lag (records)", "records", [line(pipe("lag"), "lag", COLORS[5])]);
    add("iterator_age", "Iterator age (s)", "s", [line(pipe("iterator_age"), "iterator age", COLORS[6], null, 0.001)]);
    return specs;
  }

  function yFormat(unit) {
    return (v) => (v === null || v === undefined ? "–" : num.format(v) + (unit === "records/s" ? "/s" : " " + unit));
  }

  function newChart(spec, container, data) {
    const width = Math.max(container.clientWidth, 200);
    const opts = {
      title: spec.title,
      width,
      height: 200,
      scales: {
        x: { time: true },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      series: [
        { value: (u, ts) => (ts === null ? "–" : fmtTime(ts * 1000)) },
        ...spec.lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: 1.5,
          dash: l.dash || undefined,
          spanGaps: false,
          value: (u, val) => yFormat(spec.unit)(val),
        })),
      ],
      axes: [{}, { size: 64, values: (u, vals) => vals.map((x) => num.format(x)) }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    return new uPlot(opts, data, container);
  }

  function chartData(t, spec) {
    const xs = t.map((ms) => ms / 1000);
    const ys = spec.lines.map((l) => l.values.map((x) => (x === null || x === undefined ? null : x * l.scale)));
    let points = 0;
    for (const y of ys) for (const x of y) if (x !== null) points++;
    return { data: [xs, ...ys], points };
  }

  function dropChart(c) {
    c.observer.disconnect();
    c.plot.destroy();
    c.box.remove();
  }

  function drawCharts(v, series) {
    if (!series || !Array.isArray(series.t) || !Array.isArray(series.series)) {
      for (const c of v.charts.values()) dropChart(c);
      v.charts.clear();
      v.parts.charts.replaceChildren(h("p", { class: "empty" }, series === null ? "Monitoring is off for this pipeline (monitor.enabled = false)." : "No series yet."));
      return;
    }
    const specs = chartSpecs(series);
    const keep = new Set();
    for (const spec of specs) {
      const shape = JSON.stringify(spec.lines.map((l) => [l.label, l.color, l.dash]));
      const { data, points } = chartData(series.t, spec);
      let c = v.charts.get(spec.id);
      if (c && c.shape !== shape) {
        dropChart(c);
        c = null;
      }
      if (!c) {
        const box = h("div", { class: "chart", "data-chart": spec.id });
        v.parts.charts.append(box);
        const plot = newChart(spec, box, data);
        const observer = new ResizeObserver(() => {
          const w = Math.max(box.clientWidth, 200);
          if (Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: 200 });
        });
        observer.observe(box);
        c = { plot, box, shape, points, observer };
        v.charts.set(spec.id, c);
      } else {
        c.plot.setData(data);
        c.points = points;
      }
      keep.add(spec.id);
    }
    for (const [id, c] of v.charts) {
      if (keep.has(id)) continue;
      dropChart(c);
      v.charts.delete(id);
    }
    for (const el of v.parts.charts.querySelectorAll("p.empty")) el.remove();
    if (!specs.length) v.parts.charts.append(h("p", { class: "empty" }, "No series yet."));
    // Keep the charts in the order of the specs.
    for (const spec of specs) v.parts.charts.append(v.charts.get(spec.id).box);
  }

  function band(b, unit) {
    if (!b) return "–";
    return fmt(unit, b.low) + " … " + fmt(unit, b.high);
  }

  function threshold(a, unit) {
    const t = [];
    if (typeof a.above === "number") t.push("above " + fmt(unit, a.above));
    if (typeof a.below === "number") t.push("below " + fmt(unit, a.below));
    return t.join(", ");
  }

  function drawAlarms(v, alarms) {
    const list = (alarms && alarms.alarms) || [];
    const firing = list.filter((a) => a.state === "alarm").length;
    v.alarmBadge.hidden = firing === 0;
    v.alarmBadge.textContent = firing === 1 ? "1 alarm" : firing + " alarms";
    const rows = list.map((a) => {
      const unit = a.unit || unitOf(a.metric);
      const normal = threshold(a, unit) || band(a.band, unit);
      return h(
        "tr",
        { class: "state-" + a.state, "data-alarm": a.name },
        h("td", {}, h("span", { class: "state " + a.state }, a.state === "alarm" ? "ALARM" : a.state)),
        h("td", {}, h("strong", {}, a.name), h("div", { class: "muted" }, where(a))),
        h("td", { class: "num" }, fmt(unit, a.value)),
        h("td", { class: "num" }, normal),
        h("td", { title: fmtTime(a.since_ms) }, fmtAgo(a.since_ms)),
        h("td", { class: "num" }, a.raised === undefined ? "" : int.format(a.raised))
      );
    });
    v.parts.alarms.replaceChildren(
      alarms === null
        ? h("p", { class: "empty" }, "Monitoring is off.")
        : alarms === undefined
        ? h("p", { class: "empty" }, "The alarms could not be read.")
        : table(["state", "alarm", "value", "normal", "since", "raised"], rows, "No alarms configured.")
    );
    const events = newestFirst(alarms && alarms.events).slice(0, EVENTS);
    const erows = events.map((e) => {
      const unit = e.unit || unitOf(e.metric);
      return h(
        "tr",
        { class: "event-" + e.state },
        h("td", {}, fmtTime(e.at_ms)),
        h("td", {}, h("strong", {}, e.alarm), h("div", { class: "muted" }, where(e))),
        h("td", {}, h("span", { class: "state " + (e.state === "raised" ? "alarm" : "ok") }, e.state)),
        h("td", { class: "num" }, fmt(unit, e.value)),
        h("td", { class: "num" }, threshold(e, unit) || band(e.band, unit))
      );
    });
    v.parts.events.replaceChildren(
      alarms === null ? h("p", { class: "empty" }, "Monitoring is off.") : table(["at", "alarm", "", "value", "normal"], erows, "No alarm raised or cleared yet.")
    );
  }

  // Newest first, whatever order the API gave.
  const newestFirst = (xs) => (xs || []).slice().sort((a, b) => (b.at_ms || 0) - (a.at_ms || 0));

  const partPos = (o) => [o.partition, o.position].filter((x) => x !== null && x !== undefined).join(" @ ");

  function drawErrors(v, errors) {
    const rows = newestFirst(errors).map((e) =>
        h(
          "tr",
          {},
          h("td", {}, fmtTime(e.at_ms)),
          h("td", {}, e.stage || ""),
          h("td", { class: "num" }, e.plugin_version === null || e.plugin_version === undefined ? "" : "v" + e.plugin_version),
          cell(partPos(e), 30, "mono"),
          cell(e.error, 160, "err")
        )
      );
    v.parts.errors.replaceChildren(table(["at", "stage", "version", "partition @ position", "error"], rows, "No errors."));
  }

  function drawLetters(v, letters) {
    const rows = newestFirst(letters).map((d) =>
        h(
          "tr",
          {},
          h("td", {}, fmtTime(d.at_ms)),
          h("td", {}, d.stage || ""),
          h("td", {}, [d.plugin, d.plugin_version === null || d.plugin_version === undefined ? null : "v" + d.plugin_version].filter(Boolean).join(" ")),
          cell(d.origin, 20),
          cell(partPos(d), 30, "mono"),
          h("td", { class: "num" }, d.attempts === undefined || d.attempts === null ? "" : String(d.attempts)),
          cell(d.error, 100, "err"),
          cell(d.key, 24, "mono"),
          cell(d.value, 60, "mono")
        )
      );
    v.parts.letters.replaceChildren(table(["at", "stage", "plugin", "origin", "partition @ position", "attempts", "error", "key", "value"], rows, "No dead letters."));
  }

  // Fetches one pipeline's data and redraws what changed. A route that
  // fails is shown as missing; a failure to reach weir is thrown.
  async function refreshPipeline(p) {
    const v = viewFor(p.name);
    const monitored = p.monitor !== null; // absent (older weir): try anyway
    const get = (path) => api(pipePath(p.name, path));
    const [series, alarms, errors, letters] = await Promise.allSettled([
      monitored ? get("series") : Promise.resolve(null),
      monitored ? get("alarms") : Promise.resolve(null),
      get("errors?limit=" + ROWS),
      get("dead-letters?limit=" + ROWS),
    ]);
    for (const r of [series, alarms, errors, letters]) {
      if (r.status === "rejected" && !(r.reason instanceof HttpError && r.reason.status !== 401)) throw r.reason;
    }
    const ok = (r) => (r.status === "fulfilled" ? r.value : undefined);
    v.badge.textContent = p.paused ? "paused" : "running";
    v.badge.className = "badge " + (p.paused ? "paused" : "running");
    // Only what the graph shows, so a shadow's running counts do not redraw it.
    const shown = (p.stages || []).map((s) => [s.stage, s.plugin, s.kind, s.version, s.digest, s.loaded_at_ms, s.shadow && s.shadow.digest]);
    part(v, "graph", { source: p.source, stages: shown, sinks: p.sinks }, () => drawGraph(v, p));
    const s = ok(series);
    drawStats(v, s);
    part(v, "series", s, () => drawCharts(v, s));
    part(v, "alarms", ok(alarms), (a) => drawAlarms(v, a));
    part(v, "errors", ok(errors), (e) => drawErrors(v, e));
    part(v, "letters", ok(letters), (d) => drawLetters(v, d));
    return v;
  }

  function show(message, kind) {
    if (!message) {
      notice.hidden = true;
      notice.replaceChildren();
      document.body.classList.remove("stale");
      return;
    }
    notice.hidden = false;
    notice.className = "notice " + kind;
    notice.replaceChildren(...(Array.isArray(message) ? message : [message]));
  }

  async function refresh() {
    try {
      const pipelines = await api("pipelines");
      const seen = new Set();
      const shown = await Promise.all((pipelines || []).map(refreshPipeline));
      for (const v of shown) seen.add(v.name);
      for (const [name, v] of views) {
        if (seen.has(name)) continue;
        for (const c of v.charts.values()) dropChart(c);
        v.el.remove();
        views.delete(name);
      }
      // Sections in the API's order.
      const order = shown.map((v) => v.el);
      if (order.length) {
        if (order.some((el, i) => root.children[i] !== el) || root.children.length !== order.length) root.replaceChildren(...order);
      } else {
        root.replaceChildren(h("p", { class: "empty" }, "weir runs no pipeline."));
      }
      show(null);
      updated.textContent = "updated " + fmtTime(Date.now());
      dashboard.ready = true;
    } catch (e) {
      document.body.classList.add("stale");
      if (e instanceof HttpError && e.status === 401) {
        show(
          token()
            ? ["weir refused the token in the address. Open this page as ", h("code", {}, location.origin + location.pathname + "#token=YOUR_TOKEN"), " with the admin token weir was started with."]
            : ["weir wants a token. Open this page as ", h("code", {}, location.origin + location.pathname + "#token=YOUR_TOKEN"), " with the admin token weir was started with."],
          "auth"
        );
        updated.textContent = "no access";
      } else if (e instanceof HttpError || e instanceof NetError) {
        const why = e instanceof HttpError ? "HTTP " + e.status + ": " + e.message : e.message;
        show(["weir is not answering (" + why + "); retrying every second."], "down");
        updated.textContent = "last update failed " + fmtTime(Date.now());
      } else {
        // A fault of the dashboard itself: say so, and log it (tests fail on console errors).
        show(["The dashboard failed to draw: " + (e && e.message) + "; retrying every second."], "down");
        updated.textContent = "last update failed " + fmtTime(Date.now());
        console.error("weir dashboard:", e);
      }
    }
  }

  let timer = null;
  let busy = false;
  async function loop() {
    if (busy) return; // a refresh is under way; the next one follows it
    busy = true;
    clearTimeout(timer);
    const started = Date.now();
    try {
      await refresh();
    } finally {
      busy = false;
      timer = setTimeout(loop, Math.max(200, PERIOD_MS - (Date.now() - started)));
    }
  }

  window.addEventListener("hashchange", loop);
  if (typeof uPlot !== "function") {
    show("The chart library did not load (dashboard/uPlot.iife.min.js).", "down");
  } else {
    loop();
  }
})();
