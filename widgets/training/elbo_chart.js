// The live ELBO chart's view. The kernel streams new points as custom "points"
// messages (float64 buffers, one per series, from index `start`); the view draws them
// on the next animation frame and then acknowledges the batch, and the kernel sends
// the next batch only after that ack (backpressure). A view announces itself with
// "hello" and is sent the whole curve. When a run ends the whole curve also arrives in
// the curve_* traits, which is all a saved notebook has. The axes (scale, range, ticks,
// their labels, off-scale marks) are decided in the kernel and come with the points: a
// batch carries the axes of the curve it completes, and the `axes` trait those of the
// stored curve. This view only draws them; the static picture draws the same ones.
// Hooks for tests: the root's data-status and data-verdict, polyline.pk-loss's data-n
// (points drawn), .pk-step's text, .pk-off-scale marks.

const NS = "http://www.w3.org/2000/svg";
const W = 600, H = 230;                               // main plot, in viewBox units
const PAD = { left: 70, right: 26, top: 12, bottom: 40 };  // right: room for the last x tick
const TERM_H = 120;
const TERM_COLORS = { log_likelihood: "#2ca02c", kl: "#d62728" };

// anywidget loads each view as one self-contained module (no relative imports),
// so this decoder also stands in trajectories.js.
function floats(value) {
  if (!value) return new Float64Array(0);
  if (value instanceof DataView) {
    // copy: the view's offset inside the message buffer need not be 8-byte aligned
    return new Float64Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  if (value instanceof ArrayBuffer) return new Float64Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return floats(new DataView(value.buffer, value.byteOffset, value.byteLength));
  return new Float64Array(0);
}

function el(tag, attrs = {}, parent = null, ns = NS) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function fmt(v) {
  if (v === null || v === undefined || !isFinite(v)) return "\u2013";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(5)).toString();
}

// Where a value goes on an axis the kernel described (widgets/plots/axes.py decides the
// scale, range, ticks, labels and off-scale marks; this view only draws them). The one
// piece of arithmetic repeated here is the mapping itself: the view holds the points.
function xFraction(axis, v) {
  return (v - axis.lo) / (axis.hi - axis.lo || 1);
}

function yFraction(axis, v) {
  let t = v;
  if (axis.transform === "symlog") {
    const d = (v - axis.center) / axis.gap;
    t = Math.sign(d) * Math.log10(1 + Math.abs(d));
  }
  return (Math.min(Math.max(t, axis.t_lo), axis.t_hi) - axis.t_lo) / (axis.t_hi - axis.t_lo);
}

// Until the kernel's first description arrives: a plain 0..1 frame.
const NO_AXIS = {
  x: { lo: 0, hi: 1, ticks: [], labels: [] },
  y: { transform: "linear", t_lo: 0, t_hi: 1, ticks: [], labels: [], mark_above: null, note: "" },
  title: "",
};

// One plot panel: a frame, tick labels, polylines and off-scale marks, redrawn from arrays.
class Panel {
  constructor(svg, box) {
    this.box = box;
    this.g = el("g", { class: "pk-panel" }, svg);
    this.axes = el("g", { class: "pk-axes" }, this.g);
    el("rect", { x: box.x, y: box.y, width: box.w, height: box.h, class: "pk-frame" }, this.g);
    this.title = el("text", { x: box.x, y: box.y - 6, class: "pk-panel-title" }, this.g);
    this.lines = {};
    this.marks = el("g", { class: "pk-off-scale" }, this.g);
    this.note = el("text", { x: box.x + box.w - 4, y: box.y + 16, "text-anchor": "end", class: "pk-off-note" }, this.g);
  }

  line(name, cls, color) {
    const attrs = { class: cls, fill: "none" };
    if (color) attrs.stroke = color;
    this.lines[name] = el("polyline", attrs, this.g);
    return this.lines[name];
  }

  // `panel` is one of the kernel's panel descriptions; `markFrom` names the series whose
  // points above the axis are marked.
  draw(xs, series, panel, markFrom) {
    const { x, y, w, h } = this.box;
    const px = (v) => x + xFraction(panel.x, v) * w;
    const py = (v) => y + h - yFraction(panel.y, v) * h;
    this.title.textContent = panel.title;
    this.axes.replaceChildren();
    panel.y.ticks.forEach((t, i) => {
      el("line", { x1: x, x2: x + w, y1: py(t), y2: py(t), class: "pk-grid" }, this.axes);
      el("text", { x: x - 5, y: py(t) + 4, "text-anchor": "end", class: "pk-tick" }, this.axes)
        .textContent = panel.y.labels[i];
    });
    panel.x.ticks.forEach((t, i) => {
      el("text", { x: px(t), y: y + h + 16, "text-anchor": "middle", class: "pk-tick" }, this.axes)
        .textContent = panel.x.labels[i];
    });
    for (const [name, ys] of Object.entries(series)) {
      const poly = this.lines[name];
      if (!poly) continue;
      const pts = [];
      for (let i = 0; i < xs.length; i++) {
        if (isFinite(ys[i])) pts.push(`${px(xs[i]).toFixed(1)},${py(ys[i]).toFixed(1)}`);
      }
      poly.setAttribute("points", pts.join(" "));
      poly.setAttribute("data-n", String(pts.length));
    }
    this.marks.replaceChildren();
    const above = panel.y.mark_above;
    const off = [];
    if (above !== null && above !== undefined) {
      series[markFrom].forEach((v, i) => { if (isFinite(v) && v > above && i < xs.length) off.push(i); });
    }
    this.marks.setAttribute("data-n", String(off.length));
    if (off.length) {
      const d = off.map((i) => `M${px(xs[i]).toFixed(1)},${y + 1} l-3,6 h6 z`).join("");
      el("path", { d }, this.marks);
    }
    this.note.textContent = off.length ? panel.y.note : "";
  }
}

function select(parent, label, options, value, onChange) {
  const wrap = el("label", { class: "pk-control" }, parent, null);
  wrap.append(`${label} `);
  const input = el("select", {}, wrap, null);
  for (const [v, text] of options) el("option", { value: v }, input, null).textContent = text;
  input.value = value;
  input.addEventListener("change", () => onChange(input.value));
  return input;
}

function render({ model, el: root }) {
  const box = el("div", { class: "pplkit-elbo" }, root, null);
  const head = el("div", { class: "pk-head" }, box, null);
  const title = el("span", { class: "pk-title" }, head, null);
  const status = el("span", { class: "pk-status" }, head, null);
  const verdict = el("span", { class: "pk-verdict" }, head, null);
  const readouts = el("div", { class: "pk-readouts" }, box, null);
  const stepOut = el("span", { class: "pk-step" }, readouts, null);
  const lossOut = el("span", { class: "pk-loss" }, readouts, null);
  const rateOut = el("span", { class: "pk-rate" }, readouts, null);
  const bucketOut = el("span", { class: "pk-bucket" }, readouts, null);
  const controls = el("div", { class: "pk-controls" }, box, null);
  const setTrait = (name, value) => { model.set(name, value); model.save_changes(); };
  const scaleIn = select(controls, "y axis", [["symlog", "symlog"], ["linear", "linear"], ["zoom", "zoom (mark early points)"]],
    model.get("y_scale"), (v) => setTrait("y_scale", v));
  const xIn = select(controls, "x axis", [["step", "step"], ["time", "seconds"]], model.get("x_axis"),
    (v) => setTrait("x_axis", v));
  const smoothWrap = el("label", { class: "pk-control" }, controls, null);
  smoothWrap.append("smoothing ");
  const smoothIn = el("input", { type: "number", min: 1, max: 5000, step: 1, class: "pk-smoothing" }, smoothWrap, null);
  smoothIn.value = String(model.get("smoothing"));
  smoothIn.addEventListener("change", () => {
    const v = Number(smoothIn.value);
    if (isFinite(v) && v >= 1) setTrait("smoothing", v);
  });
  smoothWrap.append(" steps");

  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "pk-main", role: "img" }, box);
  const main = new Panel(svg, { x: PAD.left, y: PAD.top + 10, w: W - PAD.left - PAD.right, h: H - PAD.top - 10 - PAD.bottom });
  main.line("loss", "pk-loss");
  main.line("smoothed", "pk-smoothed");
  const xLabel = el("text", { x: PAD.left + (W - PAD.left - PAD.right) / 2, y: H - 4, "text-anchor": "middle", class: "pk-label" }, svg);
  const empty = el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "pk-empty" }, svg);
  empty.textContent = "waiting for the first step\u2026";

  const termSvg = el("svg", { viewBox: `0 0 ${W} ${TERM_H}`, class: "pk-terms" }, box);
  const termPanels = {};
  const message = el("pre", { class: "pk-message" }, box, null);

  // The points this view holds, by series name ("steps", "elapsed", "loss", "smoothed", "term:<name>").
  let series = {};
  let axes = null;  // the kernel's description of the axes of the points in `series`
  const fromTraits = () => {
    axes = model.get("axes") || null;
    series = {
      steps: floats(model.get("curve_steps")), elapsed: floats(model.get("curve_elapsed")),
      loss: floats(model.get("curve_loss")), smoothed: floats(model.get("curve_smoothed")),
    };
    for (const [name, raw] of Object.entries(model.get("curve_terms") || {})) series[`term:${name}`] = floats(raw);
  };

  const drawReadouts = () => {
    const st = model.get("status");
    box.dataset.status = st;
    status.textContent = st;
    status.className = `pk-status pk-status-${st}`;
    const v = model.get("verdict");
    const ok = model.get("converged");
    box.dataset.verdict = v;
    verdict.textContent = v;
    verdict.title = v;
    verdict.className = `pk-verdict ${ok === true ? "pk-verdict-ok" : ok === false ? "pk-verdict-bad" : ""}`;
    verdict.style.display = v ? "" : "none";
    title.textContent = model.get("title");
    const step = model.get("step"), total = model.get("total_steps");
    stepOut.textContent = total > 0 ? `step ${step} / ${total}` : `step ${step}`;
    lossOut.textContent = `loss ${fmt(model.get("smoothed_loss"))}`;
    lossOut.title = `latest step: ${fmt(model.get("loss"))}; the number shown is a moving average`;
    rateOut.textContent = `${Math.round(model.get("steps_per_second"))} steps/s`;
    const bucket = model.get("bucket_size");
    bucketOut.textContent = bucket > 1 ? `each point: mean of ${bucket} steps` : "";
    message.textContent = model.get("message");
    message.style.display = model.get("message") ? "" : "none";
    scaleIn.value = model.get("y_scale");
    xIn.value = model.get("x_axis");
    if (document.activeElement !== smoothIn) smoothIn.value = String(model.get("smoothing"));
  };

  const drawCurves = () => {
    // the x values the axes were described for: steps, or seconds of training
    const xs = series[(axes && axes.x_series) || "steps"] || new Float64Array(0);
    const loss = series.loss || new Float64Array(0), smoothed = series.smoothed || new Float64Array(0);
    empty.style.display = xs.length ? "none" : "";
    const [mainAxes, ...termAxes] = (axes && axes.panels) || [NO_AXIS];
    xLabel.textContent = (axes && axes.x_label) || "step";
    main.draw(xs, { loss, smoothed }, mainAxes, "loss");
    // the kernel lists the terms in the formula's order: log-likelihood, then KL, then anything else
    const shown = termAxes.filter((panel) => series[`term:${panel.name}`]);
    termSvg.style.display = shown.length ? "" : "none";
    shown.forEach((panel, i) => {
      const name = panel.name;
      if (!termPanels[name]) {
        const w = (W - PAD.left - PAD.right - 40) / 2;
        termPanels[name] = new Panel(termSvg, { x: PAD.left + i * (w + 40), y: 24, w, h: 66 });
        termPanels[name].line(name, `pk-term pk-term-${name}`, TERM_COLORS[name]);
      }
      termPanels[name].draw(xs, { [name]: series[`term:${name}`] }, panel, name);
    });
  };

  // Curves are redrawn at most once per animation frame, and a batch is acknowledged
  // only after the frame that drew it: a slow browser asks for points at its own pace.
  let frame = null, pendingAck = null, tracesDirty = false;
  const scheduleCurves = () => {
    if (frame !== null) return;
    frame = requestAnimationFrame(() => {
      frame = null;
      if (tracesDirty) { fromTraits(); tracesDirty = false; }
      drawCurves();
      if (pendingAck !== null) {
        model.send({ kind: "ack", seq: pendingAck });
        pendingAck = null;
      }
    });
  };

  const onMessage = (msg, buffers) => {
    if (!msg || msg.kind !== "points") return;
    if (tracesDirty) { fromTraits(); tracesDirty = false; }  // keep the order the kernel sent them in
    const length = series.steps ? series.steps.length : 0;
    if (msg.start > length) { model.send({ kind: "hello" }); return; }  // missed a batch: start over
    const next = {};
    msg.names.forEach((name, i) => {
      const fresh = floats(buffers[i]);
      const old = series[name] || new Float64Array(0);
      const merged = new Float64Array(msg.start + fresh.length);
      merged.set(old.subarray(0, Math.min(msg.start, old.length)));
      merged.set(fresh, msg.start);
      next[name] = merged;
    });
    series = next;
    if (msg.axes) axes = msg.axes;
    pendingAck = msg.seq;
    scheduleCurves();
  };

  // One sync message changes several traits at once; the readouts are cheap to redraw
  // per message, and the curves wait for the next frame, so one message costs one redraw.
  const onCurveTraits = () => { tracesDirty = true; scheduleCurves(); };
  const curveTraits = ["curve_steps", "curve_elapsed", "curve_loss", "curve_smoothed", "curve_terms", "axes"];

  fromTraits();
  drawReadouts();
  drawCurves();
  model.on("change", drawReadouts);
  for (const name of curveTraits) model.on(`change:${name}`, onCurveTraits);
  model.on("msg:custom", onMessage);
  model.send({ kind: "hello" });
  return () => {
    model.off("change", drawReadouts);
    for (const name of curveTraits) model.off(`change:${name}`, onCurveTraits);
    model.off("msg:custom", onMessage);
    if (frame !== null) cancelAnimationFrame(frame);
  };
}

export default { render };
