// The live ELBO chart's view. The kernel streams new points as custom "points"
// messages (float64 buffers, one per series, from index `start`); the view draws them
// on the next animation frame and then acknowledges the batch, and the kernel sends
// the next batch only after that ack (backpressure). A view announces itself with
// "hello" and is sent the whole curve. When a run ends the whole curve also arrives in
// the curve_* traits, which is all a saved notebook has.
// Hooks for tests: the root's data-status and data-verdict, polyline.pk-loss's data-n
// (points drawn), .pk-step's text, .pk-off-scale marks.

const NS = "http://www.w3.org/2000/svg";
const W = 600, H = 230;                               // main plot, in viewBox units
const PAD = { left: 70, right: 26, top: 12, bottom: 40 };  // right: room for the last x tick
const TERM_H = 120;
const TERM_LABELS = { log_likelihood: "expected log-likelihood", kl: "KL(q \u2016 prior)" };
const TERM_COLORS = { log_likelihood: "#2ca02c", kl: "#d62728" };

function termRank(name) {
  const i = Object.keys(TERM_LABELS).indexOf(name);
  return i < 0 ? 99 : i;
}

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

function niceTicks(lo, hi, count) {
  if (!isFinite(lo) || !isFinite(hi) || hi <= lo) return isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

function fmt(v) {
  if (v === null || v === undefined || !isFinite(v)) return "\u2013";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(5)).toString();
}

function median(values) {
  const s = Array.from(values).sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// The y axis of one panel: the same rules as YAxis in elbo_chart.py. "symlog" is linear
// within the noise of the last tenth of the points around their median and logarithmic
// beyond; "linear" spans every point; "zoom" spans the last 90% and reports the rest
// as off the scale (marked, never silently clipped).
function yAxis(values, requested) {
  const finite = Array.from(values).filter((v) => isFinite(v));
  const scale = finite.length ? requested : "linear";  // nothing to draw yet: a plain 0..1 frame
  const tail = finite.length >= 20 ? finite.slice(Math.floor((finite.length * 9) / 10)) : finite;
  const center = tail.length ? median(tail) : 0;
  const spread = tail.length ? median(tail.map((v) => Math.abs(v - center))) * 1.4826 : 0;
  const full = finite.length ? Math.max(...finite) - Math.min(...finite) : 0;
  const gap = Math.max(spread, full * 1e-4, Math.abs(center) * 1e-9, 1e-12);
  const kept = scale === "zoom" && finite.length >= 20 ? finite.slice(Math.floor(finite.length / 10)) : finite;
  let lo = kept.length ? Math.min(...kept) : 0, hi = kept.length ? Math.max(...kept) : 1;
  const t = (v) => {
    if (scale !== "symlog") return v;
    const d = (v - center) / gap;
    return Math.sign(d) * Math.log10(1 + Math.abs(d));
  };
  const inverse = (u) => (scale !== "symlog" ? u : center + Math.sign(u) * gap * (Math.pow(10, Math.abs(u)) - 1));
  let tLo = t(lo), tHi = t(hi);
  if (tHi === tLo) { tLo -= 1; tHi += 1; }
  const margin = (tHi - tLo) * 0.04;
  tLo -= margin; tHi += margin;
  lo = inverse(tLo); hi = inverse(tHi);
  const fraction = (v) => (Math.min(Math.max(t(v), tLo), tHi) - tLo) / (tHi - tLo);
  const offScale = [];
  const top = kept.length ? Math.max(...kept) : Infinity;
  Array.from(values).forEach((v, i) => { if (isFinite(v) && v > top) offScale.push(i); });
  const ticks = (count) => {
    if (scale !== "symlog") return niceTicks(lo, hi, count);
    const candidates = new Set();
    for (let p = Math.floor(Math.log10(gap)); p <= Math.ceil(Math.log10(hi - lo)); p++) {
      const step = Math.pow(10, p), base = Math.round(center / step) * step;
      for (const m of [-5, -2, -1, 0, 1, 2, 5]) candidates.add(Number((base + m * step).toPrecision(12)));
    }
    const spacing = (tHi - tLo) / (count + 1);
    const kept = [];
    for (const c of [...candidates].filter((c) => c >= lo && c <= hi).sort((a, b) => t(a) - t(b))) {
      if (!kept.length || t(c) - t(kept[kept.length - 1]) >= spacing) kept.push(c);
    }
    return kept;
  };
  return { lo, hi, fraction, ticks, offScale };
}

// One plot panel: a frame, tick labels, polylines and off-scale marks, redrawn from arrays.
class Panel {
  constructor(svg, box, title) {
    this.box = box;
    this.g = el("g", { class: "pk-panel" }, svg);
    this.axes = el("g", { class: "pk-axes" }, this.g);
    el("rect", { x: box.x, y: box.y, width: box.w, height: box.h, class: "pk-frame" }, this.g);
    this.titleText = title;
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

  draw(xs, series, xlim, scale, tickCount, scaleFrom) {
    const { x, y, w, h } = this.box;
    const [x0, x1] = xlim;
    const axis = yAxis(series[scaleFrom], scale);
    const px = (v) => x + ((v - x0) / (x1 - x0 || 1)) * w;
    const py = (v) => y + h - axis.fraction(v) * h;
    this.title.textContent = this.titleText ? (scale === "linear" ? this.titleText : `${this.titleText} (${scale})`) : "";
    this.axes.replaceChildren();
    for (const t of axis.ticks(tickCount)) {
      el("line", { x1: x, x2: x + w, y1: py(t), y2: py(t), class: "pk-grid" }, this.axes);
      el("text", { x: x - 5, y: py(t) + 4, "text-anchor": "end", class: "pk-tick" }, this.axes).textContent = fmt(t);
    }
    for (const t of niceTicks(x0, x1, tickCount)) {
      el("text", { x: px(t), y: y + h + 16, "text-anchor": "middle", class: "pk-tick" }, this.axes)
        .textContent = fmt(t);
    }
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
    const off = axis.offScale;
    this.marks.setAttribute("data-n", String(off.length));
    if (off.length) {
      const d = off.map((i) => `M${px(xs[i]).toFixed(1)},${y + 1} l-3,6 h6 z`).join("");
      el("path", { d }, this.marks);
      this.note.textContent = `\u25B2 ${off.length} points above ${fmt(axis.hi)}`;
    } else {
      this.note.textContent = "";
    }
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
  const main = new Panel(svg, { x: PAD.left, y: PAD.top + 10, w: W - PAD.left - PAD.right, h: H - PAD.top - 10 - PAD.bottom }, "");
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
  const fromTraits = () => {
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
    const byTime = model.get("x_axis") === "time";
    const xs = (byTime ? series.elapsed : series.steps) || new Float64Array(0);
    const scale = model.get("y_scale");
    const loss = series.loss || new Float64Array(0), smoothed = series.smoothed || new Float64Array(0);
    empty.style.display = xs.length ? "none" : "";
    xLabel.textContent = byTime ? "seconds of training" : "step";
    const xlim = xs.length ? [Math.min(xs[0], 0), xs[xs.length - 1] || 1] : [0, 1];
    main.titleText = "loss";
    main.draw(xs, { loss, smoothed }, xlim, scale, 5, "loss");
    // the formula's order: log-likelihood, then KL, then anything else
    const names = Object.keys(series).filter((k) => k.startsWith("term:")).map((k) => k.slice(5))
      .sort((a, b) => termRank(a) - termRank(b) || a.localeCompare(b));
    termSvg.style.display = names.length ? "" : "none";
    names.forEach((name, i) => {
      if (!termPanels[name]) {
        const w = (W - PAD.left - PAD.right - 40) / 2;
        termPanels[name] = new Panel(termSvg, { x: PAD.left + i * (w + 40), y: 24, w, h: 66 }, TERM_LABELS[name] || name);
        termPanels[name].line(name, `pk-term pk-term-${name}`, TERM_COLORS[name]);
      }
      termPanels[name].draw(xs, { [name]: series[`term:${name}`] }, xlim, scale, 3, name);
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
    pendingAck = msg.seq;
    scheduleCurves();
  };

  // One sync message changes several traits at once; the readouts are cheap to redraw
  // per message, and the curves wait for the next frame, so one message costs one redraw.
  const onCurveTraits = () => { tracesDirty = true; scheduleCurves(); };
  const curveTraits = ["curve_steps", "curve_elapsed", "curve_loss", "curve_smoothed", "curve_terms"];
  const onAxis = () => scheduleCurves();

  fromTraits();
  drawReadouts();
  drawCurves();
  model.on("change", drawReadouts);
  for (const name of curveTraits) model.on(`change:${name}`, onCurveTraits);
  model.on("change:y_scale", onAxis);
  model.on("change:x_axis", onAxis);
  model.on("msg:custom", onMessage);
  model.send({ kind: "hello" });
  return () => {
    model.off("change", drawReadouts);
    for (const name of curveTraits) model.off(`change:${name}`, onCurveTraits);
    model.off("change:y_scale", onAxis);
    model.off("change:x_axis", onAxis);
    model.off("msg:custom", onMessage);
    if (frame !== null) cancelAnimationFrame(frame);
  };
}

export default { render };
