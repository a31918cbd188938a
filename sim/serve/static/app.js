// The planner's page: controls -> POST /api/run -> headline, tables, map. No framework, no internet.
// Values travel as the texts typed: the server reads them as `airpicture run --set KEY=TEXT` does.
"use strict";

const state = {
  info: null,           // GET /api/info
  desc: null,           // GET /api/scenario: controls and run size of the open scenario
  controls: [],         // {key(), text(), initial, changed(), setError(), reset()} per control
  run: null,            // the last run shown (its .pageKey: the inputs it was computed for, inputsKey)
  history: [],          // one row per distinct run since the page was opened (the Compare tab): {key, r}
  compareRef: null,     // the Compare tab's reference row (its key); null: the first row
  sweep: null,          // the Sweep tab's result shown (with .pageKey)
  infer: null,          // the Unwilling or unable tab's answer shown (with .pageKey: inferKey)
  map: null,
  layers: {},           // Leaflet layers of the run shown, by name
  teamLayers: {},       // the red and blue teams' last results on the map, by overlay name
  teamKeys: {},         // the inputs each team's result was computed for (inputsKey without the run size)
  fitted: null,         // the scenario whose view was fitted
  statusOwner: null,    // the tab whose action the status line reports (null: the what-if, every tab's)
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

// The status line. A message about a tab's own action (a sweep, a team) belongs to the tab shown when it
// is set and goes when another tab is chosen; the what-if's (owner null) concern every tab.
function setStatus(text, busy = false, owner = activeTab()) {
  const s = $("#status");
  s.textContent = text;
  s.classList.toggle("busy", busy);
  state.statusOwner = owner === "whatif" ? null : owner;
}

function activeTab() {
  const b = document.querySelector(".tabs button.active");
  return b ? b.dataset.tab : "whatif";
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
  fillInfer(desc);
}

function overrides() { return state.controls.flatMap((c) => c.overrides()); }

// --- the inputs a result was computed for -------------------------------------------------------
// What Run would send now. A result keeps the key of the inputs it was asked with (.pageKey); any
// control edited since marks it "not run for these inputs" until Run (updateStale).
function currentInputs() {
  return {scenario: state.desc ? state.desc.id : null, overrides: overrides(),
          campaigns: $("#campaigns").value.trim(), seed: $("#seed").value.trim()};
}
// withSize false: the red and blue teams' key (they re-score with campaigns of their own, the run's seed).
const inputsKey = (inp, withSize = true) => JSON.stringify([inp.scenario, inp.overrides, withSize ? inp.campaigns : null, inp.seed]);
const STALE_TEXT = "Not run for these inputs";
const TEAM_OVERLAYS = {evade: "Red team routes", place: "Blue team sites"};

// A tab's "not run for these inputs" line (made once, the first thing in the tab).
function staleNote(tab) {
  const panel = $(`#tab-${tab}`);
  let note = panel.querySelector(":scope > .stale-note, :scope .stale-note");
  if (!note) {
    note = el("div", {class: "stale-note", role: "status", "data-tab": tab, hidden: true});
    if (tab === "infer") $("#infer-result").before(note);     // over the answer it is about, not the form
    else (tab === "whatif" ? $("#headline-box") : panel).prepend(note);
  }
  return note;
}

function markStale(tab, stale, text) {
  const note = staleNote(tab);
  note.hidden = !stale;
  note.textContent = stale ? text : "";
  $(`#tab-${tab}`).classList.toggle("stale", stale);
  const button = document.querySelector(`.tabs button[data-tab="${tab}"]`);
  button.classList.toggle("stale", stale);
  if (stale) button.setAttribute("title", `${STALE_TEXT}: press Run`); else button.removeAttribute("title");
}

// Every result shown is checked against the inputs now set: the headline, tables and map; the sweep;
// the red and blue teams (their layers leave the map while their inputs are not the ones set); Compare.
function updateStale() {
  if (!state.desc) return;
  const now = currentInputs(), full = inputsKey(now), team = inputsKey(now, false);
  const runStale = !!state.run && state.run.pageKey !== full;
  markStale("whatif", runStale, `${STALE_TEXT}: the numbers and map below are of the inputs before your changes. Press Run.`);
  staleNote("whatif").title = state.run ? `Shown: ${runInputsText(state.run)}` : "";
  $("#map").classList.toggle("stale", runStale);
  state.mapStale.hidden = !runStale;
  markStale("sweep", !!state.sweep && state.sweep.pageKey !== full, `${STALE_TEXT}: this sweep was run on other inputs; run the sweep again.`);
  for (const [prefix, name] of Object.entries(TEAM_OVERLAYS)) {
    const tab = prefix === "evade" ? "red" : "blue";
    const have = state.teamKeys[name] !== undefined;
    const stale = have && state.teamKeys[name] !== team;
    markStale(tab, stale, `${STALE_TEXT}: these results were computed on other inputs and are off the map; run again.`);
    const layer = state.teamLayers[name];
    if (!layer) continue;
    if (stale && state.map.hasLayer(layer)) {
      state.map.removeLayer(layer);
      if (state.layerControl) state.layerControl.removeLayer(layer);
    } else if (!stale && !state.map.hasLayer(layer)) {
      layer.addTo(state.map);
      if (state.layerControl) state.layerControl.addOverlay(layer, name);
    }
  }
  markStale("infer", !!state.infer && state.infer.pageKey !== inferKey(), `${STALE_TEXT}: this answer was computed on other inputs (the what-if, the run size or the points); press Infer again.`);
  const inCompare = state.history.some((h) => h.r.pageKey === full);
  markStale("compare", state.history.length > 0 && !inCompare, `${STALE_TEXT}: no row has the inputs now set; press Run to add one.`);
  document.querySelectorAll("#compare-table tr[data-key]").forEach((tr) => tr.classList.toggle("current", tr.dataset.pagekey === full));
  declutterSoon();
}

// A run's inputs in words: its scenario, changes and size.
function runInputsText(r) {
  return `${r.scenario}, ${r.overrides.length ? r.overrides.join("; ") : "as the file says"}, ${thousands(r.campaigns)} campaigns, seed ${r.seed}`;
}

function updateChanges() {
  const o = overrides();
  $("#changes").textContent = o.length ? `What-if: ${o.map(([k, v]) => `${k}=${v}`).join("; ")}` : "The scenario as shipped (no changes).";
  updateStale();
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
  setStatus("Running…", true, null);
  const t0 = performance.now();
  try {
    const inputs = currentInputs();
    const r = await api("/api/run", inputs);
    r.pageKey = inputsKey(inputs);
    r.teamKey = inputsKey(inputs, false);
    addToCompare(r);
    showRun(r);
    setStatus(`Done: ${thousands(r.flights)} flights in ${((performance.now() - t0) / 1000).toFixed(2)} s`, false, null);
  } catch (e) {
    showError(e, "run");
    setStatus("Not run: see the message in red", false, null);
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
  $("#run-identity").textContent = identityText(r);
  $("#run-identity").title = `scenario file SHA-256 ${r.sha256}`;
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
      el("p", {class: "note"}, `Reaction window (median): ${w.p50 === null ? "n/a" : w.p50.toFixed(0) + " min"}; decision delay ${s.response.decision_delay_min} min.`
        + (s.response.will < 1 ? ` Will to act ${s.response.will}: P(ordered) ${num(s.response.p_ordered)}; P(stopped) had the state acted on every flight held in time ${num(s.response.p_stopped_if_acted)} [${s.response.p_stopped_if_acted_ci95_text}].` : "")), t);
  }

  const dl = $("#downloads");
  dl.replaceChildren();
  for (const [name, href] of Object.entries(r.downloads)) {
    const a = el("a", {href: withToken(href), download: ""}, name);
    if (name === "brief.pdf") a.addEventListener("click", (ev) => { ev.preventDefault(); downloadBrief(href); });
    dl.append(el("li", {}, a, " ", el("span", {class: "what"}, state.info.downloads[name] || "")));
  }
  drawRun(r);
  updateStale();
}

// The scenario and tool a result is of: its name, its file's SHA-256 (short) and the version.
const identityText = (x) => `${x.scenario_name} · file sha256 ${x.sha256_short} · airpicture ${x.version}`;
const identityShort = (x) => `sha256 ${x.sha256_short} · airpicture ${x.version}`;

// brief.pdf takes seconds (it runs the altitude curve and the sensitivity): fetched with a progress
// line that counts the seconds, then saved; the link itself stays a plain link (with the token).
async function downloadBrief(href) {
  if (state.busy) return;
  state.busy = true;
  const t0 = performance.now();
  const say = () => setStatus(`Building brief.pdf (the altitude curve and the sensitivity runs): ${((performance.now() - t0) / 1000).toFixed(0)} s…`, true, null);
  say();
  const tick = setInterval(say, 1000);
  try {
    const got = await fetch(href, {headers: {"X-Airpicture-Token": TOKEN}});
    if (!got.ok) {
      let doc = {};
      try { doc = await got.json(); } catch (e) { /* not JSON */ }
      throw new Error(doc.error || `${got.status} ${got.statusText}`);
    }
    const name = (/filename="?([^";]+)"?/.exec(got.headers.get("content-disposition") || "") || [])[1] || "brief.pdf";
    saveBlob(await got.blob(), name);
    setStatus(`brief.pdf built in ${((performance.now() - t0) / 1000).toFixed(1)} s: saved as ${name}`, false, null);
  } catch (e) {
    setStatus(`brief.pdf: not built: ${e.message}`, false, null);
  } finally {
    clearInterval(tick);
    state.busy = false;
  }
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", {href: url, download: name, hidden: true});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// --- the map --------------------------------------------------------------------------------------
// Colour of a radar switched off (availability 0): its coverage outlined, dotted, never filled.
const OFF_COLOR = "#8a8a8a";
const latLonText = (ll) => `${Math.abs(ll.lat).toFixed(4)}°${ll.lat >= 0 ? "N" : "S"} ${Math.abs(ll.lng).toFixed(4)}°${ll.lng >= 0 ? "E" : "W"}`;

function initMap(borders) {
  const map = L.map("map", {zoomSnap: 0.25, zoomDelta: 0.5, minZoom: 3, maxZoom: 11, worldCopyJump: false, attributionControl: true});
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth borders, OpenFlights airports; no tiles");
  new ResizeObserver(() => { map.invalidateSize(); declutterSoon(); }).observe(document.getElementById("map"));
  for (const [name, z] of [["land", 200], ["coverage", 350], ["tracks", 410], ["routes", 420], ["points", 450], ["labels", 460]]) {
    map.createPane(name).style.zIndex = z;
  }
  map.getPane("labels").style.pointerEvents = "none";
  state.map = map;
  state.borders = L.geoJSON(borders, {pane: "land", interactive: false, style: () => borderStyle(false)}).addTo(map);
  map.fitBounds([[29, 35], [38, 49]]);
  // bottom left, from the bottom: the scale bar (true at the map's centre latitude), then the legend
  L.control.scale({imperial: false, maxWidth: 150, position: "bottomleft"}).addTo(map);
  state.legend = L.control({position: "bottomleft"});
  state.legend.onAdd = () => {
    const div = el("div", {class: "legend"});
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  state.legend.addTo(map);
  // bottom right, over the attribution: latitude and longitude under the cursor (the centre's otherwise)
  const coords = L.control({position: "bottomright"});
  coords.onAdd = () => el("div", {class: "coords", title: "WGS84 latitude and longitude under the cursor (the map's centre when the cursor is away)"});
  coords.addTo(map);
  const readout = coords.getContainer();
  let over = false;
  const centre = () => { readout.textContent = `centre ${latLonText(map.getCenter())}`; };
  map.on("mousemove", (e) => { over = true; readout.textContent = latLonText(e.latlng); });
  map.on("mouseout", () => { over = false; centre(); });
  map.on("moveend", () => { if (!over) centre(); });
  centre();
  // top left, under the zoom: the map as it stands, as a PNG
  const exporter = L.control({position: "topleft"});
  exporter.onAdd = () => {
    const b = el("button", {type: "button", class: "map-export", title: "Save the map as it stands as a PNG (drawn in this page: nothing is sent)"}, "PNG");
    L.DomEvent.disableClickPropagation(b);
    b.addEventListener("click", () => exportPng().catch((e) => setStatus(`PNG not saved: ${e.message}`, false, null)));
    return b;
  };
  exporter.addTo(map);
  state.mapStale = el("div", {class: "map-stale", role: "status", hidden: true}, `${STALE_TEXT}: press Run`);
  map.getContainer().append(state.mapStale);
  map.on("zoomend moveend resize overlayadd overlayremove", declutterSoon);
}

function borderStyle(focus) {
  const c = state.info.colors;
  return focus ? {color: c.focus_border, weight: 1.6, fillColor: c.focus_land, fillOpacity: 1}
               : {color: c.border, weight: 0.6, fillColor: c.land, fillOpacity: 1};
}

// A radar's coverage as run: switched off (availability 0) outlined grey and dotted, never filled; seeing
// no flight of the run (a secondary radar with every transponder off) grey and dashed; else its kind's colour.
function coverageStyle(p, colors) {
  if (p.state === "off") return {color: OFF_COLOR, weight: 1.3, opacity: 0.9, dashArray: "1 5", fill: false};
  if (p.hidden) return {color: "#777", weight: 1, dashArray: "2 4", fill: false};
  const col = colors[p.kind] || "#888";
  return {color: col, weight: 1, dashArray: p.kind === "primary" ? "5 3" : null, fillColor: col, fillOpacity: 0.10};
}

function radarText(p) {
  if (p.state === "off") return `${p.name}: ${p.availability_text}, covers nothing in this run`;
  return p.label;
}

function drawRun(r) {
  const map = state.map, c = state.info.colors, L_ = r.layers;
  state.borders.setStyle((f) => borderStyle(f.properties.ISO_A3 === L_.focus_iso_a3));
  const visible = {};
  for (const [name, layer] of Object.entries(state.layers)) { visible[name] = map.hasLayer(layer); map.removeLayer(layer); }
  if (state.layerControl) state.layerControl.remove();
  const tip = () => ({sticky: true, direction: "top", opacity: 0.9});
  const layers = {};      // overlay name (HTML: escaped) -> [key kept across runs, layer]
  // one coverage layer per radar, toggled on its own; its name says its state as run
  for (const f of L_.coverage.features) {
    const p = f.properties;
    const layer = L.geoJSON(f, {pane: "coverage", style: () => coverageStyle(p, c),
      onEachFeature: (_, l) => l.bindTooltip(escapeHtml(`${radarText(p)} (${p.kind})${p.hidden ? ": sees no flight of this run (transponders off)" : ""}`), tip())});
    layers[escapeHtml(`Coverage: ${p.state === "off" ? `${p.name} (off)` : p.label}`)] = [`coverage:${p.name}`, layer];
  }
  layers["Sampled tracks"] = ["tracks", L.geoJSON(L_.tracks, {pane: "tracks", interactive: false, style: (f) => f.properties.detected
    ? {color: c.detected, weight: 0.8, opacity: 0.55}
    : {color: c.undetected, weight: 1.1, opacity: 0.85, dashArray: "4 3"}})];
  layers["Routes"] = ["routes", L.geoJSON(L_.routes, {pane: "routes", style: () => ({color: c.route, weight: 2.2, dashArray: "8 3 2 3"}),
    onEachFeature: (f, l) => l.bindTooltip(escapeHtml(`route ${f.properties.name} (${pct(f.properties.weight, 0)} of flights)`), tip())})];
  layers["First detections"] = ["first", L.geoJSON(L_.first_detections, {pane: "points", interactive: false,
    pointToLayer: (f, ll) => L.circleMarker(ll, {pane: "points", radius: 2.6, color: c.first_detection, weight: 0, fillColor: c.first_detection, fillOpacity: 0.85})})];
  layers["Intercepts"] = ["intercepts", L.geoJSON(L_.intercepts, {pane: "points", interactive: false,
    pointToLayer: (f, ll) => L.circleMarker(ll, {pane: "points", radius: 4, color: "#000", weight: 1.5, fill: false})})];
  const radars = L.layerGroup();
  L.geoJSON(L_.orbits, {pane: "routes", style: (f) => (f.properties.state === "off"
    ? {color: OFF_COLOR, weight: 2, dashArray: "1 5"} : {color: c[f.properties.kind] || "#888", weight: 2}),
    onEachFeature: (f, l) => l.bindTooltip(escapeHtml(radarText(f.properties)), tip())}).addTo(radars);
  L.geoJSON(L_.sites, {pane: "points", pointToLayer: (f, ll) => {
    return f.properties.airport ? L.circleMarker(ll, {pane: "points", radius: 4, color: "#000", weight: 1, fillColor: "#fff", fillOpacity: 1})
      .bindTooltip(escapeHtml(f.properties.label), tip()) : L.layerGroup();
  }}).addTo(radars);
  L.geoJSON(L_.radars, {pane: "points", pointToLayer: (f, ll) => {
    const p = f.properties, off = p.state === "off";
    return L.circleMarker(ll, {pane: "points", radius: 5.5, color: off ? OFF_COLOR : "#000", weight: off ? 1.5 : 1, dashArray: off ? "2 2" : null,
                               fillColor: off ? "#fff" : (c[p.kind] || "#888"), fillOpacity: 1})
      .bindTooltip(escapeHtml(`${radarText(p)}: ${p.kind_label}`), tip());
  }}).addTo(radars);
  L.geoJSON(L_.interceptors, {pane: "points", pointToLayer: (f, ll) => L.circleMarker(ll, {pane: "points", radius: 6, color: "#000", weight: 2, fillColor: "#fff", fillOpacity: 1})
    .bindTooltip(escapeHtml(`interceptor ${f.properties.name}`), tip())}).addTo(radars);
  layers["Radars and airports"] = ["radars", radars];
  const labels = L.layerGroup();
  for (const f of L_.sites.features) {
    if (f.properties.priority > 1) continue;
    const [lon, lat] = f.geometry.coordinates;
    L.tooltip({permanent: true, direction: "right", offset: [6, 0], className: `site-label prio-${f.properties.priority}`, pane: "labels"})
      .setLatLng([lat, lon]).setContent(escapeHtml(f.properties.label).replace(/\n/g, "<br>")).addTo(labels);
  }
  layers["Labels"] = ["labels", labels];
  const overlays = {};
  state.layers = {};
  for (const [name, [key, layer]] of Object.entries(layers)) {
    if (visible[key] !== false) layer.addTo(map);
    state.layers[key] = layer;
    overlays[name] = layer;
  }
  state.layerControl = L.control.layers(null, overlays, {collapsed: true, position: "topright"}).addTo(map);
  for (const [name, layer] of Object.entries(state.teamLayers)) if (map.hasLayer(layer)) state.layerControl.addOverlay(layer, name);
  if (state.fitted !== r.scenario_id) {
    map.invalidateSize();
    map.fitBounds(L_.bounds, {paddingTopLeft: [46, 14], paddingBottomRight: [24, 14]});
    state.fitted = r.scenario_id;
  }
  drawLegend(r);
  declutterSoon();
}

function drawLegend(r) {
  const c = state.info.colors, L_ = r.layers;
  const div = document.querySelector(".legend");
  const sw = (color, dash) => { const s = el("span", {class: "sw"}); s.style.borderTopColor = color; if (dash) s.style.borderTopStyle = "dashed"; return s; };
  const dot = (color, ring) => { const s = el("span", {class: "dot"}); s.style.background = ring ? "#fff" : color; s.style.border = `1.5px solid ${ring ? "#000" : color}`; return s; };
  const box = (color, style) => { const s = el("span", {class: "box"}); s.style.borderColor = color; s.style.background = style === "none" ? "transparent" : color + "22"; if (style === "dotted") s.style.borderStyle = "dotted"; return s; };
  const off = L_.coverage.features.filter((f) => f.properties.state === "off").map((f) => f.properties.name);
  const collapsed = state.legendCollapsed === true;
  const toggle = el("button", {type: "button", class: "legend-toggle", "aria-expanded": String(!collapsed),
                               title: collapsed ? "Show the legend" : "Fold the legend away"}, `Legend ${collapsed ? "▸" : "▾"}`);
  toggle.addEventListener("click", () => { state.legendCollapsed = !collapsed; drawLegend(state.run); document.querySelector(".legend-toggle").focus(); });
  div.classList.toggle("collapsed", collapsed);
  div.replaceChildren(toggle, ...(collapsed ? [] : [
    el("div", {class: "title"}, `Coverage at ${L_.coverage_label}${L_.terrain ? ", terrain masked" : ""}`),
    el("div", {}, box(c.primary), "primary  ", box(c.secondary), "secondary radar"),
    off.length ? el("div", {class: "off"}, box(OFF_COLOR, "dotted"), `${L_.off_text}: ${off.join(", ")}`) : null,
    L_.coverage.features.some((f) => f.properties.hidden && f.properties.state !== "off") ? el("div", {}, box("#777777"), "sees no flight (transponders off)") : null,
    el("div", {}, sw(c.route), "route"),
    el("div", {}, sw(c.detected), `tracked (${L_.tracks_drawn} of ${thousands(L_.flights_total)} drawn)`),
    el("div", {}, sw(c.undetected, true), "never tracked"),
    el("div", {}, dot(c.first_detection), "first detection"),
    L_.intercepts.features.length ? el("div", {}, dot("#000", true), "interceptor meets the flight") : null,
  ].filter(Boolean)));
  // never more than a sixth of the map, unless asked: folded at first when it would be
  if (state.legendCollapsed === undefined) {
    const m = state.map.getSize(), b = div.getBoundingClientRect();
    if (b.width * b.height > m.x * m.y / 6) { state.legendCollapsed = true; drawLegend(r); }
  }
}

// --- labels that never overlap --------------------------------------------------------------------
let declutterFrame = null;
function declutterSoon() {
  if (declutterFrame !== null) return;
  // two frames on: after the page's layout has settled (a marker shown or hidden moves the map)
  declutterFrame = requestAnimationFrame(() => requestAnimationFrame(() => { declutterFrame = null; declutter(); }));
}

// The map's permanent labels, the most important first (the teams', then the route ends', then the
// radar sites'), each take the first place beside their point (right, left, above, below) that
// overlaps no label placed before and lies inside the map; a label with none is hidden (its point's
// tooltip still names it). Run again after every zoom, draw and resize.
function declutter() {
  if (!state.map) return;
  const frame = state.map.getContainer().getBoundingClientRect();
  const rank = (t) => t.classList.contains("team-label") ? 0 : t.classList.contains("prio-0") ? 1 : 2;
  // (a label just removed fades out for 200 ms, at opacity 0: not one to make room for)
  const tips = [...state.map.getPane("labels").querySelectorAll(".leaflet-tooltip")].filter((t) => t.style.opacity !== "0")
    .sort((a, b) => rank(a) - rank(b));
  for (const t of tips) { t.style.translate = ""; t.style.visibility = ""; }
  // the map's controls (zoom, PNG, layers, legend, scale bar, readout) are taken already
  const placed = [...state.map.getContainer().querySelectorAll(".leaflet-control, .map-stale:not([hidden])")]
    .map((c) => c.getBoundingClientRect()).filter((r) => r.width && r.height);
  const free = (q) => q.left >= frame.left && q.right <= frame.right && q.top >= frame.top && q.bottom <= frame.bottom
    && !placed.some((o) => q.left < o.right + 2 && q.right + 2 > o.left && q.top < o.bottom + 1 && q.bottom + 1 > o.top);
  for (const t of tips) {
    const r = t.getBoundingClientRect();
    if (!r.width) continue;
    const w = r.width, h = r.height, gap = 22;      // gap: both of the label's offsets from its point
    const moves = [[0, 0], [-(w + gap), 0], [-(w + gap) / 2, -(h / 2 + 8)], [-(w + gap) / 2, h / 2 + 8]];
    for (const k of [0.8, 1.6, 2.4]) moves.push([0, -k * h], [0, k * h], [-(w + gap), -k * h], [-(w + gap), k * h]);
    const move = moves.find(([dx, dy]) => free({left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy}));
    if (!move) { t.style.visibility = "hidden"; continue; }
    const [dx, dy] = move;
    if (dx || dy) t.style.translate = `${dx}px ${dy}px`;
    placed.push({left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy});
  }
}

// --- the map as a picture -------------------------------------------------------------------------
// What the map shows now, drawn into a canvas and saved as a PNG: a band naming the run shown (marked
// when it is not the run of the inputs now set), then the view: the vector panes in their order
// (coverage, tracks, routes, points, as Leaflet drew them), the labels as placed, the legend and the
// scale bar. Drawn in the page: nothing is sent anywhere.
async function exportPng() {
  const map = state.map, root = map.getContainer(), view = root.getBoundingClientRect();
  const k = Math.max(1, window.devicePixelRatio || 1);
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  const head = state.run ? titleLines(ctx, view.width, state.run, !state.mapStale.hidden) : [];
  const headH = head.length ? head.length * 15 + 12 : 0;
  canvas.width = Math.round(view.width * k);
  canvas.height = Math.round((view.height + headH) * k);
  ctx.scale(k, k);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, view.width, headH);
  ctx.textBaseline = "middle";
  head.forEach(([text, f, color], i) => { ctx.font = f; ctx.fillStyle = color; ctx.fillText(text, 6, 6 + 7.5 + 15 * i); });
  // the view, below the band: every element placed relative to this frame
  const frame = {left: view.left, top: view.top - headH, width: view.width, height: view.height};
  ctx.fillStyle = getComputedStyle(root).backgroundColor;
  ctx.fillRect(0, headH, view.width, view.height);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, headH, view.width, view.height);
  ctx.clip();          // Leaflet's layers reach past the view: only the view is drawn
  const z = (p) => parseInt(getComputedStyle(p).zIndex, 10) || 0;
  const panes = [...root.querySelectorAll(".leaflet-pane")].filter((p) => p.querySelector(":scope > svg")).sort((a, b) => z(a) - z(b));
  for (const pane of panes) {
    for (const node of pane.querySelectorAll(":scope > svg")) {
      const r = node.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      ctx.drawImage(await svgImage(node), r.left - frame.left, r.top - frame.top, r.width, r.height);
    }
  }
  for (const t of map.getPane("labels").querySelectorAll(".leaflet-tooltip")) {
    if (t.style.visibility !== "hidden" && t.style.opacity !== "0") drawElement(ctx, t, frame);
  }
  for (const sel of [".legend", ".leaflet-control-scale", ".leaflet-control-attribution", ".map-stale"]) {
    const node = root.querySelector(sel);
    if (node && !node.hidden) drawElement(ctx, node, frame);
  }
  ctx.restore();
  const blob = await new Promise((ok) => canvas.toBlob(ok, "image/png"));
  const name = `${(state.run ? state.run.scenario_name : "map").replace(/[^A-Za-z0-9._-]+/g, "_")}-map.png`;
  saveBlob(blob, name);
  setStatus(`Map saved as ${name} (the view, ${Math.round(view.width)} x ${Math.round(view.height)} px, and the run it shows)`, false, null);
  return blob;
}

// An SVG element of the map as an image (a data: URL of its markup; drawing it leaves the canvas clean).
function svgImage(node) {
  const clone = node.cloneNode(true);
  clone.removeAttribute("style");       // Leaflet's position of the layer: drawn at its place instead
  const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(clone))}`;
  return new Promise((ok, fail) => {
    const img = new Image();
    img.onload = () => ok(img);
    img.onerror = () => fail(new Error("a layer of the map could not be drawn"));
    img.src = url;
  });
}

// An HTML element of the map drawn as it is laid out: each box's background and borders, then each
// word of its text where the browser placed it.
function drawElement(ctx, node, frame) {
  const boxes = [node, ...node.querySelectorAll("*")];
  for (const e of boxes) {
    const cs = getComputedStyle(e), r = e.getBoundingClientRect();
    if (!r.width || !r.height || cs.visibility === "hidden" || cs.display === "none") continue;
    const x = r.left - frame.left, y = r.top - frame.top, round = parseFloat(cs.borderTopLeftRadius) >= Math.min(r.width, r.height) / 2 - 0.5;
    if (cs.backgroundColor && !/rgba\([^)]*,\s*0\)$/.test(cs.backgroundColor) && cs.backgroundColor !== "transparent") {
      ctx.fillStyle = cs.backgroundColor;
      ctx.beginPath();
      if (round) ctx.ellipse(x + r.width / 2, y + r.height / 2, r.width / 2, r.height / 2, 0, 0, 2 * Math.PI);
      else ctx.rect(x, y, r.width, r.height);
      ctx.fill();
    }
    for (const [side, x0, y0, x1, y1] of [["Top", x, y, x + r.width, y], ["Bottom", x, y + r.height, x + r.width, y + r.height],
                                          ["Left", x, y, x, y + r.height], ["Right", x + r.width, y, x + r.width, y + r.height]]) {
      const wid = parseFloat(cs[`border${side}Width`]), style = cs[`border${side}Style`];
      if (!wid || style === "none" || style === "hidden") continue;
      ctx.strokeStyle = cs[`border${side}Color`];
      ctx.lineWidth = wid;
      ctx.setLineDash(style === "dashed" ? [3, 2] : style === "dotted" ? [1, 2] : []);
      ctx.beginPath();
      if (round) { if (side === "Top") ctx.ellipse(x + r.width / 2, y + r.height / 2, r.width / 2, r.height / 2, 0, 0, 2 * Math.PI); else continue; }
      else { ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); }
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  ctx.textBaseline = "middle";
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const cs = getComputedStyle(t.parentElement);
    if (cs.visibility === "hidden") continue;
    ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    ctx.fillStyle = cs.color;
    for (const m of t.data.matchAll(/\S+/g)) {
      range.setStart(t, m.index);
      range.setEnd(t, m.index + m[0].length);
      const r = range.getBoundingClientRect();
      if (r.width) ctx.fillText(m[0], r.left - frame.left, (r.top + r.bottom) / 2 - frame.top);
    }
  }
}

// The band over the picture, as [text, font, colour] lines wrapped to ``width``: when the inputs now set
// are not the run's, that it was not run for them; the run's title and headline; its scenario, file
// hash and version.
function titleLines(ctx, width, r, stale) {
  const font = getComputedStyle(document.body).fontFamily, lines = [];
  const wrap = (text, f, color) => {
    ctx.font = f;
    let line = "";
    for (const word of text.split(/\s+/)) {
      const next = line ? `${line} ${word}` : word;
      if (line && ctx.measureText(next).width > width - 12) { lines.push([line, f, color]); line = word; } else line = next;
    }
    if (line) lines.push([line, f, color]);
  };
  if (stale) wrap(`${STALE_TEXT}: this map is of the run named here`, `600 12px ${font}`, "#B3261E");
  wrap(r.title, `600 12px ${font}`, "#111");
  wrap(r.headline, `11.5px ${font}`, "#111");
  wrap(identityText(r), `10.5px ${font}`, "#555");
  return lines;
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
  setStatus("Sweeping…", true, "sweep");
  const key = $("#sweep-key-text").value.trim() || $("#sweep-key").value;
  try {
    const inputs = currentInputs();
    const r = await api("/api/sweep", {...inputs, key, values: $("#sweep-values").value, metric: $("#sweep-metric").value});
    r.pageKey = inputsKey(inputs);
    state.sweep = r;
    drawSweep(r);
    updateStale();
    setStatus(`Sweep done: ${r.points.length} runs of ${thousands(r.flights_per_point)} flights in ${r.elapsed_s.toFixed(2)} s`, false, "sweep");
  } catch (e) {
    const f = e.field;
    if (f === "sweep-key" || f === "sweep-values" || f === "sweep-metric" || f === "sweep") $(`.err[data-for="${f}"]`).textContent = e.message;
    else if (f === "campaigns" || f === "seed") { showError(e, "sweep"); $(`.err[data-for="sweep"]`).textContent = e.message; }
    else { showError(e, "sweep"); $(`.err[data-for="sweep"]`).textContent = `The what-if on the left is not valid: ${e.message}`; }
    setStatus("Sweep not run: see the message in red", false, "sweep");
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
  state.teamKeys = {};
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
  declutterSoon();
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
  const tab = prefix === "evade" ? "red" : "blue";
  setStatus(`${what}…`, true, tab);
  try {
    const key = inputsKey(currentInputs(), false);
    const r = await api(path, {scenario: state.desc.id, overrides: overrides(), seed: $("#seed").value.trim(), ...body});
    draw(r);
    state.teamKeys[TEAM_OVERLAYS[prefix]] = key;       // its layer leaves the map while other inputs are set
    updateStale();
    setStatus(`${what}: done in ${r.elapsed_s.toFixed(1)} s`, false, tab);
  } catch (e) {
    teamError(e, prefix, [`${prefix}-budgets`, `${prefix}-levels`, `${prefix}-add`, `${prefix}-like`, `${prefix}-grid`, `${prefix}-against`]);
    setStatus(`${what}: not run: see the message in red`, false, tab);
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
                                             against: $("#place-against").value, campaigns: $("#place-campaigns").value.trim()}, drawPlace,
                 $("#place-against").value === "adaptive" ? "Blue team (against a flyer who adapts: minutes)" : "Blue team");
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
  // against a flyer who adapts, its answer first: today's radars and the layout placed for it, each against the
  // flyer's best route (the route in words), then the layout placed for the scenario's routes only
  const a = r.adaptive;
  const vs = (x) => `${num(x.against_flyer)} against the flyer (its best route: ${x.route}); ${num(x.on_routes)} [${ciText(x.on_routes_ci95)}] on the scenario's own routes`;
  $("#place-summary").textContent = (a ? `${a.answer}. The flyer re-routes around each layout ${a.flyer}, choosing by the route search's P(detect) as flown; ${a.converged} (${a.rounds} rounds). `
      + `Today's radars: ${vs(a.today)}. The ${r.add} placed for the flyer (drawn on the map, with its best route): ${vs(a.placed)}. `
      + `The ${r.add} placed for the scenario's own routes (the greedy steps below): ${vs(a.greedy)}. ` : "")
    + `${r.add} more ${r.like} at ${r.candidates} candidate sites (${r.candidate_source}); chosen on ${thousands(r.select_flights)} flights. `
    + (a ? "" : `Re-scored P(detect): ${num(r.p_detect)} [${ciText(r.p_detect_ci95)}], from ${num(r.p_detect_before)} without them (${thousands(r.flights_per_run)} flights, seed ${r.seed}).`)
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
  if (a && a.best_route) {
    L.polyline(a.best_route.line.map(([lon, lat]) => [lat, lon]), {pane: "routes", color: state.info.palette.vermillion || "#D55E00", weight: 3, opacity: 0.9, dashArray: "6 4"})
      .bindTooltip(escapeHtml(`the flyer's best route against the blue team's sites: ${a.best_route.words}`), {sticky: true}).addTo(group);
  }
  setTeamLayer("Blue team sites", group);
}

// --- unwilling or unable: the public record ---------------------------------------------------------
// A scenario with a [[record]] gets this tab: its record, then (Infer) what the record supports per period,
// from POST /api/infer (sim.api.infer, as `airpicture infer`): the verdict in words, will's posterior mean
// and 90% interval, the capability if willing, the chart of infer.png drawn from infer.json's numbers, the
// command line and the files. The answer keeps the inputs it was asked with (the what-if, the run size,
// the points): any of them edited since marks it "not run for these inputs".
const inferKey = () => JSON.stringify([inputsKey(currentInputs()), $("#infer-samples").value.trim()]);
const KIND_WORDS = {ordered_to_land: "ordered to land", searched: "searched", stopped: "stopped"};
const ci90 = (s, d = 3) => `${num(s.mean, d)} [${num(s.ci90[0], d)}-${num(s.ci90[1], d)}]`;
const capital = (t) => t.charAt(0).toUpperCase() + t.slice(1);
const bfText = (bf) => (bf === null || bf === undefined ? "" : bf >= 1000 ? "> 1000" : bf < 0.001 ? "< 0.001" : Number(bf).toPrecision(3));

function fillInfer(desc) {
  const rec = desc.record;
  document.querySelector('.tabs button[data-tab="infer"]').hidden = !rec;
  state.infer = null;
  markStale("infer", false, "");
  $("#infer-result").hidden = true;
  for (const id of ["#infer-periods", "#infer-chart", "#infer-capability", "#infer-downloads", "#infer-record"]) $(id).replaceChildren();
  for (const id of ["#infer-more", "#infer-command", "#infer-identity"]) $(id).textContent = "";
  if (!rec) {
    if (activeTab() === "infer") selectTab("whatif");
    return;
  }
  $("#infer-samples").value = rec.samples === null ? "" : String(rec.samples);
  $("#infer-samples-text").textContent = "capability points, a power of two" + (rec.samples_cli === null ? "" :
    ` (the command line's default: ${rec.samples_cli}${rec.samples < rec.samples_cli ? `; ${rec.samples} here, within the page's ${thousands(state.info.max_flights)} flights` : ""})`)
    + (rec.capability.length ? `; unknown: ${rec.capability.join(", ")}` : "");
  const t = $("#infer-record");
  t.append(el("tr", {}, el("th", {}, "period"), el("th", {}, "dates"), el("th", {}, "flights"), el("th", {}, "what the state did"), el("th", {}, "sources")));
  for (const p of rec.periods) {
    const did = p.observed.map((o) => `${o.count} ${KIND_WORDS[o.kind] || o.kind}${o.assumed ? " (assumed)" : ""}`).join(", ");
    const sources = [`flights: ${p.flights_source}`, ...p.observed.map((o) => `${KIND_WORDS[o.kind] || o.kind}: ${o.source}`)];
    t.append(el("tr", {}, el("td", {}, p.name), el("td", {}, `${p.start} to ${p.end} (${p.days} days)`),
      el("td", {}, p.flights_text + (p.flights_assumed ? " (assumed)" : "")), el("td", {}, did),
      el("td", {class: "note"}, sources.join("; "))));
  }
}

function inferError(e) {
  const f = e.field, slot = (name) => $(`.err[data-for="${name}"]`);
  if (f === "infer-samples" || f === "infer") slot(f).textContent = e.message;
  else if (f === "campaigns" || f === "seed" || f === "request") { showError(e, "infer"); slot("infer").textContent = e.message; }
  else { showError(e, "infer"); slot("infer").textContent = `The what-if on the left is not valid: ${e.message}`; }
  if (f === "infer-samples") $("#infer-samples").classList.add("invalid");
}

async function runInfer(ev) {
  ev.preventDefault();
  if (state.busy) return;
  clearErrors();
  state.busy = true;
  $("#infer-run").disabled = true;
  const running = $("#infer-running"), t0 = performance.now(), samples = $("#infer-samples").value.trim();
  const say = () => {
    const text = `Inferring from the record: ${samples || "the default"} capability points, each a run of the what-if… ${((performance.now() - t0) / 1000).toFixed(0)} s`;
    running.textContent = text;
    setStatus(text, true, "infer");
  };
  running.hidden = false;
  say();
  const tick = setInterval(say, 1000);
  try {
    const key = inferKey();
    const r = await api("/api/infer", {...currentInputs(), samples});
    r.pageKey = key;
    state.infer = r;
    drawInfer(r);
    updateStale();
    setStatus(`Unwilling or unable: done in ${r.elapsed_s.toFixed(1)} s`, false, "infer");
  } catch (e) {
    inferError(e);
    setStatus("Unwilling or unable: not run: see the message in red", false, "infer");
  } finally {
    clearInterval(tick);
    running.hidden = true;
    state.busy = false;
    $("#infer-run").disabled = false;
  }
}

// A period's answer in plain words: which of "unwilling" and "unable" the record supports and how strongly
// (Kass and Raftery's words for the Bayes factor), or neither.
function verdictWords(p) {
  if (p.verdict === "neither") return "Neither: willing and able";
  return `${capital(p.verdict)}${p.verdict_strength ? `, ${p.verdict_strength}` : ""}`;
}

// How strongly, in numbers: the posterior probability of the verdict's hypothesis and its Bayes factor.
function verdictOdds(p, s) {
  if (p.verdict === "neither") return "";
  const unwilling = p.verdict === "unwilling";
  const post = unwilling ? p.will.p_below_half : s.capability.p_unable;
  const prior = unwilling ? p.will.p_below_half_prior : s.capability.p_unable_prior;
  const bf = unwilling ? p.will.bayes_factor_unwilling : s.capability.bayes_factor_unable;
  const what = unwilling ? "P(mostly unwilling: will < 0.5)" : "P(mostly unable: could act on fewer than half)";
  const factor = bf !== null && bf !== undefined ? bfText(bf) : prior > 0 && prior < 1 ? "> 1000" : "none (the prior alone decides)";
  return `${what} ${num(post)}, prior ${num(prior)}; Bayes factor ${factor}`;
}

function drawInfer(r) {
  const s = r.summary, cap = s.capability;
  $("#infer-result").hidden = false;
  $("#infer-periods").replaceChildren(...s.periods.map((p) => el("div", {class: `verdict ${p.verdict}`, "data-period": p.name},
    el("div", {class: "period"}, p.name, " ", el("span", {class: "counts"},
      `${Object.entries(p.observed).map(([k, v]) => `${v} ${KIND_WORDS[k] || k}`).join(", ")}; ${p.flights_text}`)),
    el("div", {class: "answer"}, verdictWords(p)),
    el("div", {class: "odds"}, verdictOdds(p, s)),
    el("div", {class: "nums"}, `will ${ci90(p.will)} (mean, 90% interval)`),
    el("div", {class: "nums"}, `stopped ${ci90(p.p_did_stop)} of the flights; could have stopped ${ci90(cap.p_could_stop_if_willing)} if willing`),
    el("p", {class: "verdict-text"}, p.verdict_text))));
  drawInferChart(s);
  const t = $("#infer-capability");
  t.replaceChildren(el("tr", {}, el("th", {}, "per flight, if willing"), el("th", {}, "posterior mean [90% interval]")));
  for (const [label, k] of [["P(detect)", "p_detect"], ["P(held in track in time)", "p_held_in_time"],
                            ["P(could order to land or intercept)", "p_could_act_if_willing"], ["P(could stop)", "p_could_stop_if_willing"]]) {
    t.append(el("tr", {}, el("td", {}, label), el("td", {}, ci90(cap[k]))));
  }
  t.append(el("tr", {}, el("td", {title: "P(the state could act on fewer than half of the flights)"}, "P(mostly unable)"),
    el("td", {}, `${num(cap.p_unable)} (prior ${num(cap.p_unable_prior)})`)));
  for (const i of s.capability_inputs) {
    t.append(el("tr", {}, el("td", {}, i.key), el("td", {}, `${Number(i.mean).toPrecision(3)} [${Number(i.ci90[0]).toPrecision(3)}-${Number(i.ci90[1]).toPrecision(3)}] (prior ${i.prior[0]}-${i.prior[1]})`)));
  }
  const changes = s.will_changes.map((c) => `will from ${c.from} to ${c.to}: ${c.mean >= 0 ? "+" : "−"}${Math.abs(c.mean).toFixed(3)} [${c.ci90[0].toFixed(3)} to ${c.ci90[1].toFixed(3)}], P(increase) ${num(c.p_increase)}`);
  const checks = s.periods.map((p) => `${p.name}: ${Object.entries(p.predictive_check).map(([k, v]) =>
    `${KIND_WORDS[k] || k} ${v.observed} (predicted ${v.predicted_mean.toFixed(1)} [${v.predicted_ci90[0]}-${v.predicted_ci90[1]}], p ${v.p_value.toFixed(2)})`).join(", ")}`);
  const d = s.diagnostics;
  $("#infer-more").textContent = [...changes, `Posterior predictive check: ${checks.join("; ")}`,
    `Diagnostics: PSIS k-hat ${d.psis_khat === null ? "n/a (too few particles)" : d.psis_khat.toFixed(2)} (reliable below 0.7), importance ESS ${thousands(Math.round(d.importance_ess))} of ${thousands(d.particles)} particles`,
    `${r.samples} capability points x ${thousands(r.flights_per_sample)} flights, seed ${r.seed}: ${r.elapsed_s.toFixed(1)} s`].join(". ") + ".";
  $("#infer-command").textContent = r.command;
  $("#infer-identity").textContent = identityText(r);
  $("#infer-identity").title = `scenario file SHA-256 ${r.sha256}`;
  $("#infer-downloads").replaceChildren(...Object.entries(r.downloads).map(([name, href]) =>
    el("li", {}, el("a", {href: withToken(href), download: ""}, name), " ", el("span", {class: "what"}, state.info.downloads[name] || ""))));
}

// The commander's chart (infer.png, sim.products.infer.draw_could_did) from infer.json's numbers: per period,
// could stop if willing (circle) against did stop (square), each with its 90% interval; the gap is will.
function drawInferChart(s) {
  const n = s.periods.length, rowH = 74, m = {l: 200, r: 210, t: 34, b: 50}, W = 900;
  const H = m.t + m.b + n * rowH;
  const X = (x) => m.l + x * (W - m.l - m.r);
  const g = svg("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "could stop if willing against did stop, per period"});
  const axis = "#444", grid = "#e4e4e4", could = state.info.palette.blue || "#0072B2", did = state.info.palette.vermillion || "#D55E00";
  for (let i = 0; i <= 5; i++) {
    const x = X(i / 5);
    g.append(svg("line", {x1: x, x2: x, y1: m.t, y2: H - m.b, stroke: grid}),
             svg("text", {x, y: H - m.b + 16, "text-anchor": "middle", "font-size": 11, fill: axis}, (i / 5).toFixed(1)));
  }
  g.append(svg("line", {x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, stroke: axis}),
           svg("text", {x: (m.l + W - m.r) / 2, y: H - 12, "text-anchor": "middle", "font-size": 12, fill: axis},
               `share of the flights stopped (posterior mean, ${Math.round(100 * s.credible)}% interval)`));
  // the legend, above the plot
  const key = (x, color, shape, label) => [shape === "o" ? svg("circle", {cx: x, cy: 14, r: 5, fill: color, stroke: "#000", "stroke-width": 0.6})
    : svg("rect", {x: x - 5, y: 9, width: 10, height: 10, fill: color, stroke: "#000", "stroke-width": 0.6}),
    svg("text", {x: x + 10, y: 18, "font-size": 12, fill: axis}, label)];
  g.append(...key(m.l + 4, could, "o", "could stop if willing"), ...key(m.l + 180, did, "s", "did stop"),
           svg("text", {x: W - m.r + 10, y: 18, "font-size": 12, fill: axis}, "the gap is will"));
  const c = s.capability.p_could_stop_if_willing;
  s.periods.forEach((p, j) => {
    const y0 = m.t + rowH * j + rowH / 2, yc = y0 - 12, yd = y0 + 12;
    const interval = (st, y, color, shape, what) => {
      g.append(svg("line", {x1: X(st.ci90[0]), x2: X(st.ci90[1]), y1: y, y2: y, stroke: color, "stroke-width": 3.5}));
      const tip = svg("title", {}, `${p.name}: ${what} ${ci90(st)}`);
      g.append(shape === "o" ? svg("circle", {cx: X(st.mean), cy: y, r: 6, fill: color, stroke: "#000", "stroke-width": 0.6}, tip)
        : svg("rect", {x: X(st.mean) - 6, y: y - 6, width: 12, height: 12, fill: color, stroke: "#000", "stroke-width": 0.6}, tip));
    };
    g.append(svg("line", {x1: X(c.mean), x2: X(p.p_did_stop.mean), y1: yc + 5, y2: yd - 5, stroke: "#777", "stroke-width": 1, "stroke-dasharray": "3 2"}));
    interval(c, yc, could, "o", "could stop if willing");
    interval(p.p_did_stop, yd, did, "s", "did stop");
    const counts = Object.entries(p.observed).map(([k, v]) => `${v} ${KIND_WORDS[k] || k}`).join(", ");
    g.append(svg("text", {x: m.l - 10, y: y0 - 4, "text-anchor": "end", "font-size": 12.5, "font-weight": 600, fill: "#111"}, p.name),
             svg("text", {x: m.l - 10, y: y0 + 12, "text-anchor": "end", "font-size": 11, fill: axis}, counts),
             svg("text", {x: W - m.r + 10, y: y0 - 4, "font-size": 12.5, "font-weight": 700, fill: "#111"},
                 `will ${num(p.will.mean, 2)} [${num(p.will.ci90[0], 2)}-${num(p.will.ci90[1], 2)}]`),
             svg("text", {x: W - m.r + 10, y: y0 + 12, "font-size": 11.5, fill: axis},
                 p.verdict === "neither" ? "neither: willing and able" : `${p.verdict}${p.verdict_strength ? ` (${p.verdict_strength})` : ""}`));
    if (j) g.append(svg("line", {x1: 8, x2: W - 8, y1: m.t + rowH * j, y2: m.t + rowH * j, stroke: grid}));
  });
  $("#infer-chart").replaceChildren(g);
}

// --- compare --------------------------------------------------------------------------------------
// One row per distinct run: the same inputs (the scenario's file, its changes, campaigns and seed: the
// same numbers, the seed addressing every draw) are one row, refreshed in place by a rerun. Each row
// shows P(detect) and P(stopped) with their intervals and their differences from the reference row
// (chosen with its radio button; the first row until one is chosen); a row can be deleted; the table
// downloads as CSV.
function addToCompare(r) {
  const key = JSON.stringify(r.inputs);
  const row = state.history.find((h) => h.key === key);
  if (row) row.r = r; else state.history.push({key, r});
  renderCompare();
}

function compareReference() {
  return state.history.find((h) => h.key === state.compareRef) || state.history[0] || null;
}

// The Compare table as data, one object per row (a difference is null on the reference's row and
// where either run has no P(stopped)).
function compareRows() {
  const ref = compareReference();
  const stopped = (s) => (s.response ? s.response.p_stopped : null);
  return state.history.map((h, i) => {
    const s = h.r.summary, rs = ref.r.summary, isRef = h === ref;
    return {h, n: i + 1, isRef, s, p_detect: s.p_detect, p_stopped: stopped(s),
            d_detect: isRef ? null : s.p_detect - rs.p_detect,
            d_stopped: isRef || stopped(s) === null || stopped(rs) === null ? null : stopped(s) - stopped(rs)};
  });
}

const signed = (d) => (d === null ? "" : `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(3)}`);
const deltaClass = (d) => (d === null || Math.abs(d) < 5e-4 ? "" : d > 0 ? "delta-up" : "delta-down");

function renderCompare() {
  const t = $("#compare-table");
  t.className = "data";
  $("#compare-count").textContent = state.history.length ? `(${state.history.length})` : "";
  $("#compare-csv").disabled = !state.history.length;
  $("#compare-clear").disabled = !state.history.length;
  const ref = compareReference();
  t.replaceChildren(el("tr", {}, el("th", {title: "the row the differences are taken from"}, "ref."), el("th", {}, "#"),
    el("th", {}, "scenario and changes"), el("th", {}, "flights"), el("th", {}, "P(detect) [95% CI]"),
    el("th", {title: "P(detect) minus the reference row's"}, `Δ vs #${ref ? state.history.indexOf(ref) + 1 : 1}`),
    el("th", {}, "P(stopped) [95% CI]"), el("th", {title: "P(stopped) minus the reference row's"}, `Δ vs #${ref ? state.history.indexOf(ref) + 1 : 1}`),
    el("th", {}, "detected per campaign"), el("th", {}, "held over airspace"), el("th", {}, "")));
  for (const row of state.history.length ? compareRows() : []) {
    const {h, n, s} = row, r = h.r;
    const pick = el("input", {type: "radio", name: "compare-ref", "aria-label": `row ${n} as the reference`});
    pick.checked = row.isRef;
    pick.addEventListener("change", () => { state.compareRef = h.key; renderCompare(); });
    const del = el("button", {type: "button", class: "small", "aria-label": `delete row ${n}`, title: "delete this row"}, "delete");
    del.addEventListener("click", () => {
      state.history = state.history.filter((x) => x !== h);
      if (state.compareRef === h.key) state.compareRef = null;
      renderCompare();
      updateStale();
    });
    const show = el("button", {type: "button", class: "small", title: "show this run on the What-if tab"}, "show");
    show.addEventListener("click", () => { showRun(r); selectTab("whatif"); });
    t.append(el("tr", {"data-key": h.key, "data-pagekey": r.pageKey, class: row.isRef ? "ref" : null},
      el("td", {}, pick), el("td", {}, String(n)),
      el("td", {}, el("div", {title: `scenario file SHA-256 ${r.sha256}; airpicture ${r.version}`}, r.scenario),
        el("div", {class: "note"}, r.overrides.length ? r.overrides.join("; ") : "as the file says")),
      el("td", {}, `${thousands(r.flights)} (seed ${r.seed})`),
      el("td", {}, `${num(s.p_detect)} [${s.p_detect_ci95_text}]`),
      el("td", {class: deltaClass(row.d_detect)}, signed(row.d_detect)),
      el("td", {}, s.response ? `${num(s.response.p_stopped)} [${s.response.p_stopped_ci95_text}]` : "n/a"),
      el("td", {class: deltaClass(row.d_stopped)}, signed(row.d_stopped)),
      el("td", {}, `${s.detected_per_campaign.mean.toFixed(1)} of ${s.flights_per_campaign}`),
      el("td", {}, pct(s.p_detect_in_airspace)),
      el("td", {class: "actions-cell"}, show, " ", del)));
  }
  updateStale();
}

// A CSV cell: a text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) or that begins
// with a quote gets a single quote in front, numbers never (the rule of sim.cells.safe_cell); then quoted
// when it holds a comma, a quote or a line break (RFC 4180).
function csvCell(v) {
  if (v === null || v === undefined) return "";
  let text = String(v);
  if (typeof v === "string" && text && !Number.isFinite(Number(text)) && /^[=+\-@\t\r']/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function compareCsv() {
  const ref = compareReference();
  const head = ["row", "reference", "scenario", "scenario_sha256", "overrides", "campaigns", "seed", "flights",
                "p_detect", "p_detect_ci95_low", "p_detect_ci95_high", `delta_p_detect_vs_row_${state.history.indexOf(ref) + 1}`,
                "p_stopped", "p_stopped_ci95_low", "p_stopped_ci95_high", `delta_p_stopped_vs_row_${state.history.indexOf(ref) + 1}`,
                "detected_per_campaign_mean", "p_detect_in_airspace", "command", "airpicture_version"];
  const lines = [head];
  for (const row of compareRows()) {
    const r = row.h.r, s = row.s, sr = s.response;
    lines.push([row.n, row.isRef ? "yes" : "no", r.scenario, r.sha256, r.overrides.join("; "), r.campaigns, r.seed, r.flights,
                s.p_detect, s.p_detect_ci95[0], s.p_detect_ci95[1], row.d_detect,
                sr ? sr.p_stopped : null, sr ? sr.p_stopped_ci95[0] : null, sr ? sr.p_stopped_ci95[1] : null, row.d_stopped,
                s.detected_per_campaign.mean, s.p_detect_in_airspace, r.command, r.version]);
  }
  return lines.map((l) => l.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

function selectTab(name) {
  document.querySelectorAll(".tabs button").forEach((b) => { b.classList.toggle("active", b.dataset.tab === name); b.setAttribute("aria-selected", String(b.dataset.tab === name)); });
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.id === `tab-${name}`));
  if (name === "whatif" && state.map) { state.map.invalidateSize(); declutterSoon(); }
  // a message about another tab's action (e.g. "Sweep not run") goes with that tab
  if (state.statusOwner && state.statusOwner !== name && !$("#status").classList.contains("busy")) setStatus("", false, null);
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
  setStatus("Opening…", true, null);
  try {
    state.desc = await api(`/api/scenario?id=${encodeURIComponent(id)}`);
  } catch (e) {
    showError(e, "upload");
    setStatus("");
    return;
  }
  buildControls(state.desc);
  $("#identity").textContent = identityShort(state.desc);
  $("#identity").title = `The scenario open: ${state.desc.title}. Its file's SHA-256: ${state.desc.sha256}`;
  await runWhatIf();
}

async function uploadFile(file) {
  clearErrors();
  if (file.size > state.info.upload_max_bytes) {
    $("#err-upload").textContent = `${file.name}: ${thousands(file.size)} bytes: a scenario file is at most ${thousands(state.info.upload_max_bytes)}`;
    return;
  }
  setStatus("Uploading…", true, null);
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
  $("#reset").addEventListener("click", () => { state.controls.forEach((c) => c.reset()); $("#campaigns").value = state.desc.campaigns; $("#seed").value = state.desc.seed; updateSize(); clearErrors(); updateStale(); });
  $("#campaigns").addEventListener("input", updateSize);
  for (const id of ["#campaigns", "#seed"]) $(id).addEventListener("input", updateStale);
  // Enter toggles a checkbox or picks a radio button, as Space does (the keyboard reaches every control)
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (e.key === "Enter" && t instanceof HTMLInputElement && (t.type === "checkbox" || t.type === "radio") && !t.disabled) {
      e.preventDefault();
      t.click();
    }
  });
  for (const id of ["#campaigns", "#seed"]) $(id).addEventListener("keydown", (e) => { if (e.key === "Enter") runWhatIf(); });
  $("#sweep-form").addEventListener("submit", runSweep);
  $("#evade-form").addEventListener("submit", runEvade);
  $("#place-form").addEventListener("submit", runPlace);
  $("#infer-form").addEventListener("submit", runInfer);
  $("#infer-samples").addEventListener("input", updateStale);
  $("#compare-clear").addEventListener("click", () => { state.history = []; state.compareRef = null; renderCompare(); });
  $("#compare-csv").addEventListener("click", () => saveBlob(new Blob([compareCsv()], {type: "text/csv"}), "compare.csv"));
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => selectTab(b.dataset.tab)));
  await openScenario(state.info.default_scenario);
}

main().catch((e) => { setStatus(`The page could not start: ${e.message}`); });
