// Invisible: tells the kernel when a browser has drawn the dashboard, then keeps
// telling it the page is still open, so the kernel can stop fitting once the tab closes.

function render({ model, el }) {
  el.style.display = "none";
  model.send({ event: "shown" });
  const beat = setInterval(() => model.send({ event: "alive" }), 1000 * model.get("heartbeat_s"));
  return () => clearInterval(beat);
}

export default { render };
