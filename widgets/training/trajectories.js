// Parameter trajectories: one small line chart per parameter element.
// Each chart has its own y scale, printed beside it (top and bottom values), so a small
// wobble on a fine scale is not mistaken for a swing. The scales (range, labels, title)
// are decided in the kernel (widgets/plots/axes.py describe_line, the `scales` trait),
// as for the static picture; this view only draws them.
// Hooks for tests: .pk-traj-cell[data-name] holds one chart, its polyline data-n the points drawn.

const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#1f77b4", "#e8710a", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const CW = 150, CH = 56, PAD = 4;

// anywidget loads each view as one self-contained module (no relative imports),
// so this decoder also stands in elbo_chart.js.
function floats(value) {
  if (!value) return new Float64Array(0);
  if (value instanceof DataView) {
    return new Float64Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  if (value instanceof ArrayBuffer) return new Float64Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return floats(new DataView(value.buffer, value.byteOffset, value.byteLength));
  return new Float64Array(0);
}

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "pplkit-trajectories";
  const head = document.createElement("div");
  head.className = "pk-traj-head";
  const grid = document.createElement("div");
  grid.className = "pk-traj-grid";
  box.append(head, grid);
  el.appendChild(box);

  const draw = () => {
    const names = model.get("names") || [];
    const xs = floats(model.get("steps"));
    const values = model.get("values") || {};
    const hidden = model.get("hidden");
    const scales = model.get("scales") || {};
    const prefix = model.get("prefix") || "";
    head.textContent = names.length
      ? `parameters${prefix ? ` ${prefix}*` : ""} (constrained values)` +
        (hidden > 0 ? ` \u2014 ${hidden} more elements not shown` : "")
      : "parameters: no samples yet";
    grid.replaceChildren();
    const x0 = xs.length ? xs[0] : 0, x1 = xs.length ? xs[xs.length - 1] : 1;
    names.forEach((name, i) => {
      const ys = floats(values[name]);
      const described = scales[name];
      if (!described) return;  // lines and scales travel in one message; a line without one waits
      const { lo, hi } = described;
      const cell = document.createElement("div");
      cell.className = "pk-traj-cell";
      cell.dataset.name = name;
      const label = document.createElement("div");
      label.className = "pk-traj-label";
      label.textContent = described.title;
      label.title = `${name}: ${described.bottom} .. ${described.top}`;
      const row = document.createElement("div");
      row.className = "pk-traj-row";
      const scale = document.createElement("div");
      scale.className = "pk-traj-scale";
      const top = document.createElement("span"), bottom = document.createElement("span");
      top.textContent = described.top;
      bottom.textContent = described.bottom;
      scale.append(top, bottom);
      const svg = document.createElementNS(NS, "svg");
      svg.setAttribute("viewBox", `0 0 ${CW} ${CH}`);
      const pts = [];
      for (let k = 0; k < xs.length; k++) {
        if (!isFinite(ys[k])) continue;
        const px = PAD + ((xs[k] - x0) / (x1 - x0 || 1)) * (CW - 2 * PAD);
        const py = CH - PAD - ((ys[k] - lo) / (hi - lo)) * (CH - 2 * PAD);
        pts.push(`${px.toFixed(1)},${py.toFixed(1)}`);
      }
      const line = document.createElementNS(NS, "polyline");
      line.setAttribute("points", pts.join(" "));
      line.setAttribute("data-n", String(pts.length));
      line.setAttribute("stroke", COLORS[i % COLORS.length]);
      svg.appendChild(line);
      row.append(scale, svg);
      cell.append(label, row);
      grid.appendChild(cell);
    });
  };

  // At most one redraw per animation frame, then an ack: the kernel sends new lines only
  // after it, so a slow browser is never sent more than it can draw.
  let frame = null;
  const schedule = () => {
    if (frame !== null) return;
    frame = requestAnimationFrame(() => {
      frame = null;
      draw();
      model.send({ kind: "ack" });
    });
  };
  model.on("change", schedule);
  draw();
  model.send({ kind: "hello" });
  return () => {
    model.off("change", schedule);
    if (frame !== null) cancelAnimationFrame(frame);
  };
}

export default { render };
