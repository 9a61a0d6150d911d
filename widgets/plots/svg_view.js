// Shows an SVG made in the kernel. Elements whose id is a key of `targets` are
// clickable and set `selected`; the selected one gets the class pk-selected.

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "pplkit-svg-view";
  el.appendChild(box);

  const mark = () => {
    const targets = model.get("targets") || {};
    const selected = model.get("selected");
    for (const node of box.querySelectorAll("[id]")) {
      if (!(node.id in targets)) continue;
      node.classList.add("pk-target");
      node.classList.toggle("pk-selected", targets[node.id] === selected && selected !== "");
    }
  };

  const draw = () => {
    const svg = model.get("svg");
    if (svg) {
      box.innerHTML = svg;
    } else {
      box.replaceChildren();
      const note = document.createElement("div");
      note.className = "pk-placeholder";
      note.textContent = model.get("placeholder");
      box.appendChild(note);
    }
    mark();
  };

  const onClick = (event) => {
    const targets = model.get("targets") || {};
    for (let node = event.target; node && node !== box; node = node.parentNode) {
      if (node.id && node.id in targets) {
        model.set("selected", targets[node.id]);
        model.save_changes();
        return;
      }
    }
  };

  const busy = () => box.classList.toggle("pk-busy", model.get("busy"));

  box.addEventListener("click", onClick);
  model.on("change:svg change:placeholder", draw);
  model.on("change:selected change:targets", mark);
  model.on("change:busy", busy);
  draw();
  busy();
  return () => {
    box.removeEventListener("click", onClick);
    model.off("change:svg change:placeholder", draw);
    model.off("change:selected change:targets", mark);
    model.off("change:busy", busy);
  };
}

export default { render };
