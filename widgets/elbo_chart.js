// The live ELBO chart's view. The kernel sends decimated curves as float64 bytes
// about ten times a second; this file only draws them. Hooks for tests: the root's
// data-status, the polyline.pk-loss's data-n (points drawn) and .pk-step's text.

const NS = "http://www.w3.org/2000/svg";
const W = 560, H = 210;                               // main plot, in viewBox units
const PAD = { left: 58, right: 12, top: 10, bottom: 30 };
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

function extent(values, skipFirstTenth) {
  let lo = Infinity, hi = -Infinity, hiTail = -Infinity;
  const start = skipFirstTenth && values.length >= 20 ? Math.floor(values.length / 10) : 0;
  values.forEach((v, i) => {
    if (!isFinite(v)) return;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    if (i >= start) hiTail = Math.max(hiTail, v);
  });
  // huge early losses would flatten the rest of the curve: they are clipped at the top
  if (skipFirstTenth && isFinite(hiTail)) hi = hiTail;
  if (!isFinite(lo)) return [0, 1];
  if (hi === lo) return [lo - (Math.abs(lo) * 0.1 || 0.5), hi + (Math.abs(lo) * 0.1 || 0.5)];
  const m = (hi - lo) * 0.05;
  return [lo - m, hi + m];
}

// One plot panel: a frame, tick labels and polylines, redrawn from arrays.
class Panel {
  constructor(svg, box, title) {
    this.box = box;
    this.g = el("g", { class: "pk-panel" }, svg);
    this.axes = el("g", { class: "pk-axes" }, this.g);
    el("rect", { x: box.x, y: box.y, width: box.w, height: box.h, class: "pk-frame" }, this.g);
    if (title) el("text", { x: box.x, y: box.y - 5, class: "pk-panel-title" }, this.g).textContent = title;
    this.lines = {};
  }

  line(name, cls, color) {
    const attrs = { class: cls, fill: "none" };
    if (color) attrs.stroke = color;
    this.lines[name] = el("polyline", attrs, this.g);
    return this.lines[name];
  }

  draw(xs, series, xlim, ylim, tickCount) {
    const { x, y, w, h } = this.box;
    const [x0, x1] = xlim, [y0, y1] = ylim;
    const px = (v) => x + ((v - x0) / (x1 - x0 || 1)) * w;
    const py = (v) => y + h - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0 || 1)) * h;
    this.axes.replaceChildren();
    for (const t of niceTicks(y0, y1, tickCount)) {
      el("line", { x1: x, x2: x + w, y1: py(t), y2: py(t), class: "pk-grid" }, this.axes);
      el("text", { x: x - 4, y: py(t) + 3, "text-anchor": "end", class: "pk-tick" }, this.axes).textContent = fmt(t);
    }
    for (const t of niceTicks(x0, x1, tickCount)) {
      el("text", { x: px(t), y: y + h + 12, "text-anchor": "middle", class: "pk-tick" }, this.axes)
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
  }
}

function render({ model, el: root }) {
  const box = el("div", { class: "pplkit-elbo" }, root, null);
  const head = el("div", { class: "pk-head" }, box, null);
  const title = el("span", { class: "pk-title" }, head, null);
  const status = el("span", { class: "pk-status" }, head, null);
  const readouts = el("div", { class: "pk-readouts" }, box, null);
  const stepOut = el("span", { class: "pk-step" }, readouts, null);
  const lossOut = el("span", { class: "pk-loss" }, readouts, null);
  const rateOut = el("span", { class: "pk-rate" }, readouts, null);
  const bucketOut = el("span", { class: "pk-bucket" }, readouts, null);

  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "pk-main", role: "img" }, box);
  const main = new Panel(svg, { x: PAD.left, y: PAD.top, w: W - PAD.left - PAD.right, h: H - PAD.top - PAD.bottom });
  main.line("loss", "pk-loss");
  main.line("smoothed", "pk-smoothed");
  el("text", { x: W / 2, y: H - 2, "text-anchor": "middle", class: "pk-label" }, svg).textContent = "step";
  const empty = el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "pk-empty" }, svg);
  empty.textContent = "waiting for the first step\u2026";

  const termSvg = el("svg", { viewBox: `0 0 ${W} 110`, class: "pk-terms" }, box);
  const termPanels = {};
  const message = el("pre", { class: "pk-message" }, box, null);

  const draw = () => {
    const st = model.get("status");
    box.dataset.status = st;
    status.textContent = st;
    status.className = `pk-status pk-status-${st}`;
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

    const xs = floats(model.get("curve_steps"));
    const loss = floats(model.get("curve_loss"));
    const smoothed = floats(model.get("curve_smoothed"));
    empty.style.display = xs.length ? "none" : "";
    const xlim = xs.length ? [xs[0] === xs[xs.length - 1] ? 0 : xs[0], xs[xs.length - 1]] : [0, 1];
    main.draw(xs, { loss, smoothed }, xlim, extent(loss, true), 5);

    const terms = model.get("curve_terms") || {};
    // the formula's order: log-likelihood, then KL, then anything else
    const names = Object.keys(terms).sort((a, b) => termRank(a) - termRank(b) || a.localeCompare(b));
    termSvg.style.display = names.length ? "" : "none";
    names.forEach((name, i) => {
      if (!termPanels[name]) {
        const w = (W - PAD.left - PAD.right - 30) / 2;
        termPanels[name] = new Panel(termSvg, { x: PAD.left + i * (w + 30), y: 18, w, h: 70 }, TERM_LABELS[name] || name);
        termPanels[name].line(name, `pk-term pk-term-${name}`, TERM_COLORS[name]);
      }
      const ys = floats(terms[name]);
      termPanels[name].draw(xs, { [name]: ys }, xlim, extent(ys, true), 3);
    });
  };

  // One sync message changes several traits at once; "change" fires once per message,
  // where a listener per "change:<trait>" would redraw the whole chart once per trait.
  model.on("change", draw);
  draw();
  return () => model.off("change", draw);
}

export default { render };
