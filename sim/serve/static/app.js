// The planner's page: controls -> POST /api/run -> headline, tables, map. No framework, no internet.
// Values travel as the texts typed: the server reads them as `airpicture run --set KEY=TEXT` does.
"use strict";

const state = {
  info: null,           // GET /api/info
  desc: null,           // GET /api/scenario: controls and run size of the open scenario
  controls: [],         // {key(), text(), initial, changed(), setError(), reset()} per control
  run: null,            // the last run shown
  history: [],          // every run since the page was opened (the Compare tab)
  map: null,
  layers: {},           // Leaflet layers of the run shown, by name
  teamLayers: {},       // the red and blue teams' last results on the map, by overlay name
  fitted: null,         // the scenario whose view was fitted
  busy: false,
};

// --- small helpers --------------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const $ = (sel) => document.querySelector(sel);
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const pct = (x, d = 1) => (x === null || x === undefined) ? "n/a" : `${(100 * x).toFixed(d)}%`;
const num = (x, d = 3) => (x === null || x === undefined) ? "n/a" : Number(x).toFixed(d);
const thousands = (n) => Number(n).toLocaleString("en-US");
// An interval with three decimals, rounded outwards (as sim.results.format_ci: never narrower than computed).
const ciText = (ci) => `${(Math.floor(ci[0] * 1000) / 1000).toFixed(3)}-${(Math.ceil(ci[1] * 1000) / 1000).toFixed(3)}`;

class ApiError extends Error {
  constructor(message, field, status, errors) {
    super(message); this.field = field; this.status = status; this.errors = errors || [{field, error: message}];
  }
}

// This server's token, put in the page when it was served: every request that computes carries it
// (a header on fetches, a query parameter on download links), so no other web page can start work here.
const TOKEN = document.querySelector('meta[name="airpicture-token"]').content;
const withToken = (href) => `${href}${href.includes("?") ? "&" : "?"}token=${encodeURIComponent(TOKEN)}`;

async function api(path, body) {
  const headers = {"X-Airpicture-Token": TOKEN};
  const opts = body === undefined ? {headers} : {method: "POST", headers: {...headers, "Content-Type": "application/json"}, body: JSON.stringify(body)};
  const r = await fetch(path, opts);
  let doc = null;
  try { doc = await r.json(); } catch (e) { doc = {error: `${r.status} ${r.statusText}`}; }
  if (!r.ok) throw new ApiError(doc.error || `${r.status} ${r.statusText}`, doc.field, r.status, doc.errors);
  return doc;
}

function setStatus(text, busy = false) {
  const s = $("#status");
  s.textContent = text;
  s.classList.toggle("busy", busy);
}

function clearErrors() {
  document.querySelectorAll(".err").forEach((e) => { e.textContent = ""; });
  document.querySelectorAll("input.invalid").forEach((e) => e.classList.remove("invalid"));
}

// Show each server message beside the control it belongs to (its --set key, or campaigns, seed, sweep-..., run).
function showError(err, fallback) {
  for (const {field: f, error: message} of err.errors) {
    const field = f || fallback;
    const ctl = state.controls.find((c) => c.keys().includes(field));
    if (ctl) { ctl.setError(message); continue; }
    const slot = document.querySelector(`.err[data-for="${CSS.escape(field || "")}"]`) || document.querySelector(`.err[data-for="${fallback}"]`);
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    const input = document.getElementById(field);
    if (input && input.tagName === "INPUT") input.classList.add("invalid");
  }
}

// --- controls -------------------------------------------------------------------------------------
function textInput(value, label) {
  const i = el("input", {type: "text", value, "aria-label": label, autocomplete: "off", spellcheck: "false"});
  i.addEventListener("keydown", (e) => { if (e.key === "Enter") runWhatIf(); });
  return i;
}

function numberControl(c, container) {
  const input = textInput(c.value, c.label);
  input.dataset.key = c.key;
  const err = el("div", {class: "err"});
  if (c.type === "bool") {
    const box = el("input", {type: "checkbox", "aria-label": c.label});
    box.checked = c.value === "true";
    box.dataset.key = c.key;
    container.append(el("div", {class: "row", title: c.hint}, el("label", {}, c.label), box, el("span", {class: "unit"}, c.hint)), err);
    const ctl = {
      keys: () => [c.key],
      overrides: () => (box.checked ? "true" : "false") === c.value ? [] : [[c.key, box.checked ? "true" : "false"]],
      setError: (m) => { err.textContent = m; },
      reset: () => { box.checked = c.value === "true"; mark(); },
    };
    const mark = () => { box.parentElement.classList.toggle("changed", ctl.overrides().length > 0); updateChanges(); };
    box.addEventListener("change", mark);
    return ctl;
  }
  const id = `ctl-${c.key.replace(/[^A-Za-z0-9]+/g, "-")}`;
  input.id = id;
  container.append(el("div", {class: "row", title: c.hint}, el("label", {for: id}, c.label), input, el("span", {class: "unit"}, c.unit)), err);
  const ctl = {
    keys: () => [c.key],
    overrides: () => input.value.trim() === c.value ? [] : [[c.key, input.value.trim()]],
    setError: (m) => { err.textContent = m; input.classList.add("invalid"); },
    reset: () => { input.value = c.value; mark(); },
  };
  const mark = () => { input.classList.toggle("changed", input.value.trim() !== c.value); updateChanges(); };
  input.addEventListener("input", mark);
  return ctl;
}

function levelControl(c, container) {
  const mode = el("select", {"aria-label": "Cruise level reference", title: "above mean sea level, or above ground (terrain following)"},
    el("option", {value: "amsl"}, "m AMSL"), el("option", {value: "agl"}, "m AGL"));
  mode.value = c.mode;
  const input = textInput(c.value, c.label);
  input.id = "ctl-cruise-level";
  input.dataset.key = "cruise-level";
  const err = el("div", {class: "err"});
  container.append(el("div", {class: "row", title: c.hint}, el("label", {for: input.id}, c.label), input, mode));
  if (c.hint.includes("own level")) container.append(el("p", {class: "hint"}, c.hint));
  container.append(err);
  const ctl = {
    keys: () => Object.values(c.modes),
    overrides: () => (mode.value === c.mode && input.value.trim() === c.value) ? [] : [[c.modes[mode.value], input.value.trim()]],
    setError: (m) => { err.textContent = m; input.classList.add("invalid"); },
    reset: () => { mode.value = c.mode; input.value = c.value; mark(); },
  };
  const mark = () => {
    const changed = ctl.overrides().length > 0;
    input.classList.toggle("changed", changed); mode.classList.toggle("changed", changed); updateChanges();
  };
  input.addEventListener("input", mark);
  mode.addEventListener("change", mark);
  return ctl;
}

function radarTable(radars, container) {
  const colors = state.info.colors;
  const table = el("table", {class: "radars"}, el("tr", {}, el("th", {}, "on"), el("th", {}, "radar"),
    el("th", {title: "probability the radar is up"}, "availability"), el("th", {title: "mean outage length (empty: up or down per flight)"}, "outage d")));
  const out = [];
  for (const c of radars) {
    const on = el("input", {type: "checkbox", "aria-label": `${c.name} on`, "data-radar": c.name});
    on.checked = true;
    const avail = textInput(c.availability.value, `${c.name} availability`);
    avail.id = `ctl-${c.availability.key.replace(/[^A-Za-z0-9]+/g, "-")}`;
    avail.dataset.key = c.availability.key;
    const outage = textInput(c.outage.value, `${c.name} mean outage days`);
    outage.id = `ctl-${c.outage.key.replace(/[^A-Za-z0-9]+/g, "-")}`;
    outage.dataset.key = c.outage.key;
    outage.placeholder = "-";
    const err = el("div", {class: "err"});
    const dot = el("span", {class: "kind", title: c.kind_label});
    dot.style.background = colors[c.kind] || "#888";
    const row = el("tr", {}, el("td", {}, on), el("td", {class: "name", title: c.kind_label}, dot, c.name), el("td", {}, avail), el("td", {}, outage));
    table.append(row, el("tr", {}, el("td", {colspan: 4}, err)));
    const ctl = {
      keys: () => [c.availability.key, c.outage.key],
      overrides: () => {
        const o = [];
        if (!on.checked) o.push([c.availability.key, "0"]);
        else if (avail.value.trim() !== c.availability.value) o.push([c.availability.key, avail.value.trim()]);
        if (outage.value.trim() !== c.outage.value && outage.value.trim() !== "") o.push([c.outage.key, outage.value.trim()]);
        return o;
      },
      setError: (m) => {
        err.textContent = err.textContent ? `${err.textContent} ${m}` : m;
        (m.includes(c.outage.key) ? outage : avail).classList.add("invalid");
      },
      reset: () => { on.checked = true; avail.value = c.availability.value; outage.value = c.outage.value; mark(); },
    };
    const mark = () => {
      avail.disabled = !on.checked;
      row.classList.toggle("off", !on.checked);
      avail.classList.toggle("changed", on.checked && avail.value.trim() !== c.availability.value);
      outage.classList.toggle("changed", outage.value.trim() !== c.outage.value);
      updateChanges();
    };
    on.addEventListener("change", mark);
    avail.addEventListener("input", mark);
    outage.addEventListener("input", mark);
    out.push(ctl);
  }
  container.append(table);
  return out;
}

function buildControls(desc) {
  const groups = $("#groups");
  groups.replaceChildren();
  state.controls = [];
  for (const g of desc.controls) {
    const fs = el("fieldset", {}, el("legend", {}, g.group));
    const radars = g.controls.filter((c) => c.type === "radar");
    for (const c of g.controls) {
      if (c.type === "level") state.controls.push(levelControl(c, fs));
      else if (c.type !== "radar") state.controls.push(numberControl(c, fs));
    }
    if (radars.length) state.controls.push(...radarTable(radars, fs));
    groups.append(fs);
  }
  $("#campaigns").value = desc.campaigns;
  $("#seed").value = desc.seed;
  updateSize();
  updateChanges();
  fillSweepKeys(desc);
  fillTeam(desc);
}

function overrides() { return state.controls.flatMap((c) => c.overrides()); }

function updateChanges() {
  const o = overrides();
  $("#changes").textContent = o.length ? `What-if: ${o.map(([k, v]) => `${k}=${v}`).join("; ")}` : "The scenario as shipped (no changes).";
}

function updateSize() {
  const d = state.desc;
  const c = parseInt($("#campaigns").value, 10);
  $("#size-text").textContent = Number.isFinite(c) ? `x ${d.flights_per_campaign} flights = ${thousands(c * d.flights_per_campaign)} flights` : `x ${d.flights_per_campaign} flights`;
}

// --- the run --------------------------------------------------------------------------------------
async function runWhatIf() {
  if (state.busy) return;
  clearErrors();
  state.busy = true;
  $("#run").disabled = true;
  setStatus("Running…", true);
  const t0 = performance.now();
  try {
    const r = await api("/api/run", {scenario: state.desc.id, overrides: overrides(), campaigns: $("#campaigns").value.trim(), seed: $("#seed").value.trim()});
    showRun(r);
    state.history.push(r);
    renderCompare();
    setStatus(`Done: ${thousands(r.flights)} flights in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  } catch (e) {
    showError(e, "run");
    setStatus("Not run: see the message in red", false);
  } finally {
    state.busy = false;
    $("#run").disabled = false;
  }
}

function kpi(label, value, ci) {
  return el("div", {class: "kpi"}, el("div", {class: "v"}, value), el("div", {class: "l"}, label), ci ? el("div", {class: "ci"}, ci) : null);
}

function showRun(r) {
  state.run = r;
  const s = r.summary;
  $("#run-title").textContent = r.title;
  $("#headline").textContent = r.headline;
  $("#command").textContent = r.command;
  const d = s.detected_per_campaign;
  const k = [
    kpi("P(detect) per flight", num(s.p_detect), `95% CI ${s.p_detect_ci95_text}`),
    kpi("detected per campaign", `${d.mean.toFixed(1)} of ${s.flights_per_campaign}`, `90% of campaigns ${d.p05.toFixed(0)}-${d.p95.toFixed(0)}`),
  ];
  if (s.p_detect_in_airspace !== undefined && s.p_detect_in_airspace !== null)
    k.push(kpi(`held in track over ${s.airspace}`, pct(s.p_detect_in_airspace), `mean ${s.minutes_in_airspace_mean.toFixed(0)} min in its airspace, ${s.minutes_in_coverage_mean.toFixed(0)} min in radar coverage`));
  if (s.response) k.push(kpi("P(stopped) per flight", num(s.response.p_stopped), `95% CI ${s.response.p_stopped_ci95_text}`));
  else k.push(kpi("P(stopped)", "n/a", "no [response] in the scenario"));
  $("#kpis").replaceChildren(...k);

  const rt = $("#radar-table");
  rt.className = "data";
  rt.replaceChildren(el("tr", {}, el("th", {}, "radar"), el("th", {title: "share of flights it held in track"}, "tracked"),
    el("th", {title: "share of flights it tracked first"}, "first"), el("th", {title: "share of flights it was up for"}, "up")));
  for (const [name, x] of Object.entries(s.radars)) {
    const bar = el("span", {class: "bar"});
    bar.style.width = `${Math.round(40 * x.p_detect)}px`;
    const dot = el("span", {class: "kind", title: x.kind});
    dot.style.background = state.info.colors[x.kind] || "#888";
    rt.append(el("tr", {class: x.p_up === 0 ? "off" : null}, el("td", {}, dot, name), el("td", {}, bar, pct(x.p_detect)), el("td", {}, pct(x.p_first)), el("td", {}, pct(x.p_up, 0))));
  }

  const box = $("#response-box");
  box.replaceChildren();
  if (s.response) {
    const t = el("table", {class: "data"}, el("tr", {}, el("th", {}, "outcome"), el("th", {}, "flights")));
    for (const [name, share] of Object.entries(s.response.outcomes)) {
      if (!share) continue;
      t.append(el("tr", {}, el("td", {title: s.response.outcome_labels[name] || name}, s.response.outcome_labels[name] || name), el("td", {}, pct(share))));
    }
    const w = s.response.reaction_window_min;
    box.append(el("h3", {}, "Could they be stopped"),
      el("p", {class: "note"}, `Reaction window (median): ${w.p50 === null ? "n/a" : w.p50.toFixed(0) + " min"}; decision delay ${s.response.decision_delay_min} min.`), t);
  }

  const dl = $("#downloads");
  dl.replaceChildren();
  for (const [name, href] of Object.entries(r.downloads)) {
    dl.append(el("li", {}, el("a", {href: withToken(href), download: ""}, name), " ", el("span", {class: "what"}, state.info.downloads[name] || "")));
  }
  drawRun(r);
}

// --- the map --------------------------------------------------------------------------------------
function initMap(borders) {
  const map = L.map("map", {zoomSnap: 0.25, zoomDelta: 0.5, minZoom: 3, maxZoom: 11, worldCopyJump: false, attributionControl: true});
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth borders, OpenFlights airports; no tiles");
  new ResizeObserver(() => map.invalidateSize()).observe(document.getElementById("map"));
  for (const [name, z] of [["land", 200], ["coverage", 350], ["tracks", 410], ["routes", 420], ["points", 450], ["labels", 460]]) {
    map.createPane(name).style.zIndex = z;
  }
  map.getPane("labels").style.pointerEvents = "none";
  state.map = map;
  state.borders = L.geoJSON(borders, {pane: "land", interactive: false, style: () => borderStyle(false)}).addTo(map);
  map.fitBounds([[29, 35], [38, 49]]);
  state.legend = L.control({position: "bottomleft"});
  state.legend.onAdd = () => el("div", {class: "legend"});
  state.legend.addTo(map);
}

function borderStyle(focus) {
  const c = state.info.colors;
  return focus ? {color: c.focus_border, weight: 1.6, fillColor: c.focus_land, fillOpacity: 1}
               : {color: c.border, weight: 0.6, fillColor: c.land, fillOpacity: 1};
}

function drawRun(r) {
  const map = state.map, c = state.info.colors, L_ = r.layers;
  state.borders.setStyle((f) => borderStyle(f.properties.ISO_A3 === L_.focus_iso_a3));
  const visible = {};
  for (const [name, layer] of Object.entries(state.layers)) { visible[name] = map.hasLayer(layer); map.removeLayer(layer); }
  if (state.layerControl) state.layerControl.remove();
  const tip = (text) => ({sticky: true, direction: "top", opacity: 0.9});
  const layers = {};
  layers["Coverage at " + L_.coverage_label] = L.geoJSON(L_.coverage, {pane: "coverage", style: (f) => {
    const col = c[f.properties.kind] || "#888";
    return f.properties.hidden ? {color: "#777", weight: 1, dashArray: "2 4", fill: false}
                               : {color: col, weight: 1, dashArray: f.properties.kind === "primary" ? "5 3" : null, fillColor: col, fillOpacity: 0.10};
  }, onEachFeature: (f, l) => l.bindTooltip(escapeHtml(`${f.properties.name} (${f.properties.kind})${f.properties.hidden ? ": sees no flight of this run (transponders off)" : ""}`), tip())});
  layers["Sampled tracks"] = L.geoJSON(L_.tracks, {pane: "tracks", interactive: false, style: (f) => f.properties.detected
    ? {color: c.detected, weight: 0.8, opacity: 0.55}
    : {color: c.undetected, weight: 1.1, opacity: 0.85, dashArray: "4 3"}});
  layers["Routes"] = L.geoJSON(L_.routes, {pane: "routes", style: () => ({color: c.route, weight: 2.2, dashArray: "8 3 2 3"}),
    onEachFeature: (f, l) => l.bindTooltip(escapeHtml(`route ${f.properties.name} (${pct(f.properties.weight, 0)} of flights)`), tip())});
  layers["First detections"] = L.geoJSON(L_.first_detections, {pane: "points", interactive: false,
    pointToLayer: (f, ll) => L.circleMarker(ll, {pane: "points", radius: 2.6, color: c.first_detection, weight: 0, fillColor: c.first_detection, fillOpacity: 0.85})});
  layers["Intercepts"] = L.geoJSON(L_.intercepts, {pane: "points", interactive: false,
    pointToLayer: (f, ll) => L.circleMarker(ll, {pane: "points", radius: 4, color: "#000", weight: 1.5, fill: false})});
  const radars = L.layerGroup();
  L.geoJSON(L_.orbits, {pane: "routes", style: (f) => ({color: c[f.properties.kind] || "#888", weight: 2})}).addTo(radars);
  L.geoJSON(L_.sites, {pane: "points", pointToLayer: (f, ll) => {
    return f.properties.airport ? L.circleMarker(ll, {pane: "points", radius: 4, color: "#000", weight: 1, fillColor: "#fff", fillOpacity: 1})
      .bindTooltip(escapeHtml(f.properties.label), tip()) : L.layerGroup();
  }}).addTo(radars);
  L.geoJSON(L_.radars, {pane: "points", pointToLayer: (f, ll) => L.circleMarker(ll, {pane: "points", radius: 5.5, color: "#000", weight: 1, fillColor: c[f.properties.kind] || "#888", fillOpacity: 1})
    .bindTooltip(escapeHtml(`${f.properties.name}: ${f.properties.kind_label}`), tip())}).addTo(radars);
  L.geoJSON(L_.interceptors, {pane: "points", pointToLayer: (f, ll) => L.circleMarker(ll, {pane: "points", radius: 6, color: "#000", weight: 2, fillColor: "#fff", fillOpacity: 1})
    .bindTooltip(escapeHtml(`interceptor ${f.properties.name}`), tip())}).addTo(radars);
  layers["Radars and airports"] = radars;
  const labels = L.layerGroup();
  for (const f of L_.sites.features) {
    if (f.properties.priority > 1) continue;
    const [lon, lat] = f.geometry.coordinates;
    L.tooltip({permanent: true, direction: "right", offset: [6, 0], className: "site-label", pane: "labels"})
      .setLatLng([lat, lon]).setContent(escapeHtml(f.properties.label)).addTo(labels);
  }
  layers["Labels"] = labels;
  for (const [name, layer] of Object.entries(layers)) {
    const key = name.startsWith("Coverage") ? "coverage" : name;
    if (visible[key] !== false) layer.addTo(map);
    state.layers[key] = layer;
  }
  for (const k of Object.keys(state.layers)) if (!Object.values(layers).includes(state.layers[k])) delete state.layers[k];
  state.layerControl = L.control.layers(null, layers, {collapsed: true, position: "topright"}).addTo(map);
  for (const [name, layer] of Object.entries(state.teamLayers)) state.layerControl.addOverlay(layer, name);
  if (state.fitted !== r.scenario_id) {
    map.invalidateSize();
    map.fitBounds(L_.bounds, {paddingTopLeft: [12, 12], paddingBottomRight: [70, 12]});
    state.fitted = r.scenario_id;
  }
  drawLegend(r);
}

function drawLegend(r) {
  const c = state.info.colors, L_ = r.layers;
  const div = document.querySelector(".legend");
  const sw = (color, dash) => { const s = el("span", {class: "sw"}); s.style.borderTopColor = color; if (dash) s.style.borderTopStyle = "dashed"; return s; };
  const dot = (color, ring) => { const s = el("span", {class: "dot"}); s.style.background = ring ? "#fff" : color; s.style.border = `1.5px solid ${ring ? "#000" : color}`; return s; };
  const box = (color) => { const s = el("span", {class: "box"}); s.style.borderColor = color; s.style.background = color + "22"; return s; };
  div.replaceChildren(...[
    el("div", {class: "title"}, `Coverage at ${L_.coverage_label}${L_.terrain ? ", terrain masked" : ""}`),
    el("div", {}, box(c.primary), "primary  ", box(c.secondary), "secondary radar"),
    L_.coverage.features.some((f) => f.properties.hidden) ? el("div", {}, box("#777777"), "sees no flight (transponders off)") : null,
    el("div", {}, sw(c.route), "route"),
    el("div", {}, sw(c.detected), `tracked (${L_.tracks_drawn} of ${thousands(L_.flights_total)} drawn)`),
    el("div", {}, sw(c.undetected, true), "never tracked"),
    el("div", {}, dot(c.first_detection), "first detection"),
    L_.intercepts.features.length ? el("div", {}, dot("#000", true), "interceptor meets the flight") : null,
  ].filter(Boolean));
}

// --- sweep ----------------------------------------------------------------------------------------
function fillSweepKeys(desc) {
  const sel = $("#sweep-key");
  sel.replaceChildren();
  for (const g of desc.controls) {
    const og = el("optgroup", {label: g.group});
    for (const c of g.controls) {
      if (c.type === "radar") og.append(el("option", {value: c.availability.key}, `${c.name} availability`));
      else if (c.type === "level") { og.append(el("option", {value: c.modes.amsl}, "cruise altitude (m above sea level)"), el("option", {value: c.modes.agl}, "cruise height (m above ground)")); }
      else if (c.type !== "bool") og.append(el("option", {value: c.key}, c.label));
    }
    sel.append(og);
  }
  sel.onchange = () => { $("#sweep-values").value = sweepDefaults(sel.value); };
  $("#sweep-values").value = sweepDefaults(sel.value);
  const m = $("#sweep-metric");
  m.replaceChildren(...desc.sweep_metrics.map((x) => el("option", {value: x}, x)));
}

function sweepDefaults(key) {
  if (/probability|availability|compliance/.test(key)) return "0,0.25,0.5,0.75,1";
  if (/agl/.test(key)) return "150,300,600,1000,2000";
  if (/cruise_altitude/.test(key)) return "300,1000,3000,6000,10100";
  if (/track_m/.test(key)) return "1,2,3,4,5";
  if (/track_n/.test(key)) return "3,4,5,6,8";
  if (/delay|ready/.test(key)) return "2,5,10,20,30";
  if (/weight/.test(key)) return "0,0.25,0.5,0.75,1";
  return "";
}

async function runSweep(ev) {
  ev.preventDefault();
  if (state.busy) return;
  clearErrors();
  state.busy = true;
  $("#sweep-run").disabled = true;
  setStatus("Sweeping…", true);
  const key = $("#sweep-key-text").value.trim() || $("#sweep-key").value;
  try {
    const r = await api("/api/sweep", {scenario: state.desc.id, overrides: overrides(), key, values: $("#sweep-values").value,
                                       metric: $("#sweep-metric").value, campaigns: $("#campaigns").value.trim(), seed: $("#seed").value.trim()});
    drawSweep(r);
    setStatus(`Sweep done: ${r.points.length} runs of ${thousands(r.flights_per_point)} flights in ${r.elapsed_s.toFixed(2)} s`);
  } catch (e) {
    const f = e.field;
    if (f === "sweep-key" || f === "sweep-values" || f === "sweep-metric" || f === "sweep") $(`.err[data-for="${f}"]`).textContent = e.message;
    else if (f === "campaigns" || f === "seed") { showError(e, "sweep"); $(`.err[data-for="sweep"]`).textContent = e.message; }
    else { showError(e, "sweep"); $(`.err[data-for="sweep"]`).textContent = `The what-if on the left is not valid: ${e.message}`; }
    setStatus("Sweep not run: see the message in red");
  } finally {
    state.busy = false;
    $("#sweep-run").disabled = false;
  }
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function drawSweep(r) {
  const W = 720, H = 360, m = {l: 62, r: 18, t: 22, b: 52};
  const pts = r.points.filter((p) => p.metric_value !== null);
  const numeric = r.points.every((p) => typeof p.value === "number");
  const xs = r.points.map((p, i) => numeric ? p.value : i);
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const prob = /^p_|\.p_/.test(r.metric);
  const ys = pts.flatMap((p) => [p.metric_value, ...(p.metric_ci95 || [])]);
  let y0 = prob ? 0 : Math.min(0, ...ys), y1 = prob ? 1 : Math.max(...ys) * 1.08 || 1;
  const X = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
  const Y = (y) => H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b);
  const g = svg("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${r.metric} against ${r.key}`});
  const axis = "#444", grid = "#e4e4e4";
  for (let i = 0; i <= 5; i++) {
    const y = y0 + (y1 - y0) * i / 5;
    g.append(svg("line", {x1: m.l, x2: W - m.r, y1: Y(y), y2: Y(y), stroke: grid}),
             svg("text", {x: m.l - 6, y: Y(y) + 4, "text-anchor": "end", "font-size": 11, fill: axis}, prob ? y.toFixed(1) : y.toPrecision(3)));
  }
  r.points.forEach((p, i) => g.append(svg("text", {x: X(xs[i]), y: H - m.b + 16, "text-anchor": "middle", "font-size": 11, fill: axis}, String(p.value))));
  g.append(svg("line", {x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, stroke: axis}),
           svg("line", {x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, stroke: axis}),
           svg("text", {x: (m.l + W - m.r) / 2, y: H - 12, "text-anchor": "middle", "font-size": 12, fill: axis}, r.key),
           svg("text", {x: 14, y: (m.t + H - m.b) / 2, "text-anchor": "middle", "font-size": 12, fill: axis, transform: `rotate(-90 14 ${(m.t + H - m.b) / 2})`}, r.metric));
  const line = pts.map((p) => `${X(numeric ? p.value : r.points.indexOf(p))},${Y(p.metric_value)}`).join(" ");
  g.append(svg("polyline", {points: line, fill: "none", stroke: state.info.colors.detected, "stroke-width": 2}));
  for (const p of pts) {
    const x = X(numeric ? p.value : r.points.indexOf(p));
    if (p.metric_ci95) g.append(svg("line", {x1: x, x2: x, y1: Y(p.metric_ci95[0]), y2: Y(p.metric_ci95[1]), stroke: state.info.colors.detected, "stroke-width": 1.2}));
    g.append(svg("circle", {cx: x, cy: Y(p.metric_value), r: 4, fill: state.info.colors.detected}, svg("title", {}, `${r.key}=${p.value}: ${r.metric} ${p.metric_value}`)));
  }
  $("#sweep-chart").replaceChildren(g);
  const t = $("#sweep-table");
  t.className = "data";
  t.replaceChildren(el("tr", {}, el("th", {}, r.key), el("th", {}, r.metric), el("th", {}, "95% CI"), r.metric === "p_detect" ? null : el("th", {}, "P(detect)"), el("th", {}, "detected per campaign")));
  for (const p of r.points) t.append(el("tr", {}, el("td", {}, String(p.value)), el("td", {}, p.metric_value === null ? "n/a" : num(p.metric_value)),
    el("td", {}, p.metric_ci95 ? ciText(p.metric_ci95) : ""), r.metric === "p_detect" ? null : el("td", {}, num(p.p_detect)), el("td", {}, p.detected_per_campaign_mean.toFixed(2))));
  $("#sweep-command").textContent = r.command;
}

// --- red team and blue team -----------------------------------------------------------------------
function fillTeam(desc) {
  const t = desc.team;
  if (!$("#evade-campaigns").value) $("#evade-campaigns").value = t.campaigns;
  if (!$("#place-campaigns").value) $("#place-campaigns").value = t.campaigns;
  $("#place-like").replaceChildren(...t.like.map((name) => el("option", {value: name}, name)));
  for (const layer of Object.values(state.teamLayers)) {      // another scenario: its teams' results go
    state.map.removeLayer(layer);
    if (state.layerControl) state.layerControl.removeLayer(layer);
  }
  state.teamLayers = {};
  for (const id of ["#evade-summary", "#evade-command", "#place-summary", "#place-command"]) $(id).textContent = "";
  for (const id of ["#evade-table", "#place-table"]) $(id).replaceChildren();
}

// A team's result on the What-if tab's map: one overlay per team, replaced by its next result.
function setTeamLayer(name, layer) {
  const old = state.teamLayers[name];
  if (old) { state.map.removeLayer(old); if (state.layerControl) state.layerControl.removeLayer(old); }
  state.teamLayers[name] = layer;
  layer.addTo(state.map);
  if (state.layerControl) state.layerControl.addOverlay(layer, name);
}

function teamError(e, prefix, fields) {
  const f = e.field;
  if (fields.includes(f)) $(`.err[data-for="${f}"]`).textContent = e.message;
  else if (f === "campaigns") $(`.err[data-for="${prefix}-campaigns"]`).textContent = e.message;
  else if (f === "seed" || f === prefix || f === "request") { showError(e, prefix); $(`.err[data-for="${prefix}"]`).textContent = e.message; }
  else { showError(e, prefix); $(`.err[data-for="${prefix}"]`).textContent = `The what-if on the left is not valid: ${e.message}`; }
}

async function runTeam(ev, prefix, path, body, draw, what) {
  ev.preventDefault();
  if (state.busy) return;
  clearErrors();
  state.busy = true;
  $(`#${prefix}-run`).disabled = true;
  setStatus(`${what}…`, true);
  try {
    const r = await api(path, {scenario: state.desc.id, overrides: overrides(), seed: $("#seed").value.trim(), ...body});
    draw(r);
    setStatus(`${what}: done in ${r.elapsed_s.toFixed(1)} s`);
  } catch (e) {
    teamError(e, prefix, [`${prefix}-budgets`, `${prefix}-levels`, `${prefix}-add`, `${prefix}-like`, `${prefix}-grid`, `${prefix}-against`]);
    setStatus(`${what}: not run: see the message in red`);
  } finally {
    state.busy = false;
    $(`#${prefix}-run`).disabled = false;
  }
}

function runEvade(ev) {
  return runTeam(ev, "evade", "/api/evade", {budgets_km: $("#evade-budgets").value, levels: $("#evade-levels").value,
                                             campaigns: $("#evade-campaigns").value.trim()}, drawEvade, "Red team");
}

function runPlace(ev) {
  return runTeam(ev, "place", "/api/place", {add: $("#place-add").value, like: $("#place-like").value, grid_km: $("#place-grid").value,
                                             against: "fixed", campaigns: $("#place-campaigns").value.trim()}, drawPlace, "Blue team");
}

function drawEvade(r) {
  const both = new Set(r.front.map((f) => f.transponder)).size > 1;
  const spread = r.spread_km > 0 ? `with the ${r.spread_km} km sideways spread` : "exactly on the planned line (no sideways spread)";
  const budgets = (f) => f.budgets_km.length ? f.budgets_km.map((b) => `${b}`).join(", ") + " km" : "";
  const name = (f) => f.label === "direct" ? "direct" + (f.budgets_km.length ? ` (and ${budgets(f)})` : "") : budgets(f);
  $("#evade-summary").textContent = `From ${r.origin} to ${r.dest} (${thousands(Math.round(r.great_circle_km))} km geodesic). `
    + `As flown: each route flown ${spread}, each radar's availability and outages; each budget's route minimises ${r.objective === "p_stopped" ? "P(stopped)" : "P(detect)"} as flown. `
    + `Each route re-scored by ${thousands(r.flights_per_route)} flights, seed ${r.seed}; budgets that find the same route share its row.`
    + (r.notes.length ? ` Note: ${r.notes.join("; ")}.` : "");
  const t = $("#evade-table");
  t.className = "data";
  t.replaceChildren(el("tr", {}, el("th", {}, "budgets"), el("th", {}, "extra km"), el("th", {}, "level"), both ? el("th", {}, "transponder") : null,
    el("th", {title: "flight time, climb and descent included"}, "time min"),
    el("th", {title: `P(detect) of the route flown ${spread}`}, "P(detect) as flown [95% CI]"),
    el("th", {title: `P(stopped) of the route flown ${spread}`}, "P(stopped) as flown [95% CI]"),
    el("th", {title: "P(detect) of the same route flown exactly on its planned line (secondary)", class: "secondary"}, "planned track, exactly")));
  for (const f of r.front) {
    t.append(el("tr", {}, el("td", {}, name(f)), el("td", {}, f.extra_km.toFixed(1)), el("td", {}, f.level),
      both ? el("td", {}, f.transponder) : null, el("td", {}, f.flight_time_min.toFixed(0)),
      el("td", {}, `${num(f.p_detect)} [${f.p_detect_ci95_text}]`),
      el("td", {}, f.p_stopped === null ? "-" : `${num(f.p_stopped)} [${f.p_stopped_ci95_text}]`),
      el("td", {class: "secondary"}, num(f.p_detect_planned_track))));
  }
  $("#evade-command").textContent = r.command;
  const colors = Object.values(state.info.palette);
  const group = L.layerGroup();
  r.front.forEach((f, i) => {
    const ll = f.line.map(([lon, lat]) => [lat, lon]);
    const label = name(f) + (both ? ` (${f.transponder})` : "");
    L.polyline(ll, {pane: "routes", color: colors[i % colors.length], weight: 3, opacity: 0.9})
      .bindTooltip(escapeHtml(`red team ${label}: +${f.extra_km.toFixed(1)} km, P(detect) ${num(f.p_detect)} as flown, ${num(f.p_detect_planned_track)} on its planned track`), {sticky: true}).addTo(group);
    const a = ll[Math.floor((ll.length - 1) / 2)], b = ll[Math.ceil((ll.length - 1) / 2)];
    const mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    L.tooltip({permanent: true, direction: "right", className: "team-label", pane: "labels"}).setLatLng(mid).setContent(escapeHtml(label)).addTo(group);
  });
  setTeamLayer("Red team routes", group);
}

function drawPlace(r) {
  $("#place-summary").textContent = `${r.add} more ${r.like} at ${r.candidates} candidate sites (${r.candidate_source}); chosen on ${thousands(r.select_flights)} flights. `
    + `Re-scored P(detect): ${num(r.p_detect)} [${ciText(r.p_detect_ci95)}], from ${num(r.p_detect_before)} without them (${thousands(r.flights_per_run)} flights, seed ${r.seed}).`
    + (r.notes.length ? ` Note: ${r.notes.join("; ")}.` : "");
  const t = $("#place-table");
  t.className = "data";
  t.replaceChildren(el("tr", {}, el("th", {}, "k"), el("th", {}, "site"), el("th", {}, "marginal gain"), el("th", {}, "objective (sample)"),
    el("th", {title: "no layout of k sites does better on the selection sample"}, "bound"), el("th", {}, "Monte Carlo P(detect) [95% CI]")));
  for (const s of r.steps) {
    t.append(el("tr", {}, el("td", {}, String(s.k)), el("td", {}, s.site), el("td", {}, s.marginal_gain === null ? "" : `+${s.marginal_gain.toFixed(4)}`),
      el("td", {}, s.objective_sample.toFixed(4)), el("td", {}, s.bound_sample.toFixed(4)),
      el("td", {}, s.mc_ci95_low === null ? num(s.objective_mc, 4) : `${num(s.objective_mc, 4)} [${s.mc_ci95_low.toFixed(4)}-${s.mc_ci95_high.toFixed(4)}]`)));
  }
  $("#place-command").textContent = r.command;
  const group = L.layerGroup();
  const color = state.info.palette.blue || "#0072B2";
  for (const s of r.sites) {
    L.circleMarker([s.lat, s.lon], {pane: "points", radius: 7, color: "#000", weight: 1.5, fillColor: color, fillOpacity: 1})
      .bindTooltip(escapeHtml(`blue team ${s.k}: ${s.name} (a copy of ${r.like})`), {sticky: true}).addTo(group);
    L.tooltip({permanent: true, direction: "right", offset: [8, 0], className: "team-label", pane: "labels"})
      .setLatLng([s.lat, s.lon]).setContent(escapeHtml(`+${s.k} ${r.like}`)).addTo(group);
  }
  setTeamLayer("Blue team sites", group);
}

// --- compare --------------------------------------------------------------------------------------
function renderCompare() {
  const t = $("#compare-table");
  t.className = "data";
  $("#compare-count").textContent = state.history.length ? `(${state.history.length})` : "";
  t.replaceChildren(el("tr", {}, el("th", {}, "#"), el("th", {}, "scenario and changes"), el("th", {}, "flights"), el("th", {}, "P(detect)"),
    el("th", {}, "95% CI"), el("th", {}, "vs #1"), el("th", {}, "detected per campaign"), el("th", {}, "held over airspace"),
    el("th", {}, "P(stopped)"), el("th", {}, "")));
  const ref = state.history[0];
  state.history.forEach((r, i) => {
    const s = r.summary;
    const d = ref ? s.p_detect - ref.summary.p_detect : 0;
    const delta = i === 0 ? "" : `${d >= 0 ? "+" : ""}${d.toFixed(3)}`;
    t.append(el("tr", {}, el("td", {}, String(i + 1)),
      el("td", {}, el("div", {}, r.scenario), el("div", {class: "note"}, r.overrides.length ? r.overrides.join("; ") : "as shipped")),
      el("td", {}, `${thousands(r.flights)} (seed ${r.seed})`), el("td", {}, num(s.p_detect)), el("td", {}, s.p_detect_ci95_text),
      el("td", {class: d > 0 ? "delta-up" : d < 0 ? "delta-down" : ""}, delta),
      el("td", {}, `${s.detected_per_campaign.mean.toFixed(1)} of ${s.flights_per_campaign}`),
      el("td", {}, pct(s.p_detect_in_airspace)),
      el("td", {}, s.response ? `${num(s.response.p_stopped)} [${s.response.p_stopped_ci95_text}]` : "n/a"),
      el("td", {}, el("button", {type: "button", onclick: () => { showRun(r); selectTab("whatif"); }}, "show"))));
  });
}

function selectTab(name) {
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${name}`));
  if (name === "whatif" && state.map) state.map.invalidateSize();
}

// --- scenarios ------------------------------------------------------------------------------------
function fillScenarios(list, selected) {
  const sel = $("#scenario");
  sel.replaceChildren();
  const groups = {given: "Given", shipped: "Shipped", uploaded: "Uploaded"};
  for (const [src, label] of Object.entries(groups)) {
    const items = list.filter((s) => s.source === src);
    if (!items.length) continue;
    sel.append(el("optgroup", {label}, ...items.map((s) => el("option", {value: s.id, title: s.title}, s.name))));
  }
  sel.value = selected;
}

async function openScenario(id) {
  clearErrors();
  setStatus("Opening…", true);
  try {
    state.desc = await api(`/api/scenario?id=${encodeURIComponent(id)}`);
  } catch (e) {
    showError(e, "upload");
    setStatus("");
    return;
  }
  buildControls(state.desc);
  await runWhatIf();
}

async function uploadFile(file) {
  clearErrors();
  if (file.size > state.info.upload_max_bytes) {
    $("#err-upload").textContent = `${file.name}: ${thousands(file.size)} bytes: a scenario file is at most ${thousands(state.info.upload_max_bytes)}`;
    return;
  }
  setStatus("Uploading…", true);
  try {
    const r = await fetch("/api/upload", {method: "POST", headers: {"X-Filename": file.name, "Content-Type": "application/octet-stream", "X-Airpicture-Token": TOKEN}, body: file});
    const doc = await r.json();
    if (!r.ok) throw new ApiError(doc.error, doc.field, r.status, doc.errors);
    fillScenarios(doc.scenarios, doc.id);
    await openScenario(doc.id);
  } catch (e) {
    $("#err-upload").textContent = e.message;
    setStatus("");
  }
}

async function main() {
  state.info = await api("/api/info");
  $("#note").textContent = `airpicture ${state.info.version}: results are illustrative, built on open-source reporting and stated assumptions. A run on this page is at most ${thousands(state.info.max_flights)} flights.`;
  fillScenarios(state.info.scenarios, state.info.default_scenario);
  initMap(await api("/api/borders"));
  $("#scenario").addEventListener("change", (e) => openScenario(e.target.value));
  $("#upload-button").addEventListener("click", () => $("#upload").click());
  $("#upload").addEventListener("change", (e) => { if (e.target.files.length) uploadFile(e.target.files[0]); e.target.value = ""; });
  $("#run").addEventListener("click", runWhatIf);
  $("#reset").addEventListener("click", () => { state.controls.forEach((c) => c.reset()); $("#campaigns").value = state.desc.campaigns; $("#seed").value = state.desc.seed; updateSize(); clearErrors(); });
  $("#campaigns").addEventListener("input", updateSize);
  for (const id of ["#campaigns", "#seed"]) $(id).addEventListener("keydown", (e) => { if (e.key === "Enter") runWhatIf(); });
  $("#sweep-form").addEventListener("submit", runSweep);
  $("#evade-form").addEventListener("submit", runEvade);
  $("#place-form").addEventListener("submit", runPlace);
  $("#compare-clear").addEventListener("click", () => { state.history = []; renderCompare(); });
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => selectTab(b.dataset.tab)));
  await openScenario(state.info.default_scenario);
}

main().catch((e) => { setStatus(`The page could not start: ${e.message}`); });
