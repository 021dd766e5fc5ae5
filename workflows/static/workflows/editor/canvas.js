// The canvas: nodes and edges drawn as SVG from the store; drag to move, drag from an output port
// to an input port to connect (incompatible ports are marked and refused while dragging), drag a
// node's flow handle (◆) to another node for a control or conditional edge; click, Shift-click
// and Shift-drag to select; wheel and buttons to zoom; drag the background to pan.

import { FLOW_OFFSET_Y, HEADER_HEIGHT, NODE_WIDTH, nodeSize, portOffset, portsOf, typeLabel } from "./model.js";
import { edgeKey, nodeKey } from "./store.js";

const SVG = "http://www.w3.org/2000/svg";
const MIN_ZOOM = 0.25;
const MAX_ZOOM = 2.5;
const DRAG_THRESHOLD = 4;
const READABLE_ZOOM = 0.85;  // 14px names stay at 12px

function element(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function shorten(text, limit) {
  text = String(text);
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

function curve(from, to) {
  const bend = Math.max(40, Math.abs(to.x - from.x) / 2);
  return `M${from.x},${from.y} C${from.x + bend},${from.y} ${to.x - bend},${to.y} ${to.x},${to.y}`;
}

export class Canvas {
  constructor({ svg, hint, store, catalog, actions, positions, issues, announce }) {
    this.svg = svg;
    this.hint = hint;
    this.store = store;
    this.catalog = catalog;
    this.actions = actions;
    this.positions = positions;
    this.issues = issues;
    this.announce = announce;
    this.view = { x: 0, y: 0, k: 1 };
    this.viewport = svg.querySelector(".viewport");
    this.edgeLayer = svg.querySelector(".edges");
    this.nodeLayer = svg.querySelector(".nodes");
    this.wire = svg.querySelector(".wire");
    this.marquee = svg.querySelector(".marquee");
    this.gesture = null;
    this.dragOffsets = null;  // id → {x, y} while nodes are dragged
    this.frame = 0;
    svg.addEventListener("pointerdown", (event) => this.pointerDown(event));
    svg.addEventListener("pointermove", (event) => this.pointerMove(event));
    svg.addEventListener("pointerup", (event) => this.pointerUp(event));
    svg.addEventListener("pointercancel", () => this.cancelGesture());
    svg.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    svg.addEventListener("focusin", (event) => this.focusIn(event));
    svg.addEventListener("keydown", (event) => this.keyDown(event));
  }

  // --- drawing -------------------------------------------------------------------------------

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  render() {
    const focusedId = document.activeElement && document.activeElement.closest
      && document.activeElement.closest(".editor-canvas .node") ? document.activeElement.dataset.nodeId : null;
    const nodesById = this.store.nodesById();
    sync(this.nodeLayer, this.store.nodes.map((node) => this.drawNode(node)), "data-node-id");
    sync(this.edgeLayer, this.store.edges.map((edge) => this.drawEdge(edge, nodesById)).filter(Boolean), "data-edge-id");
    this.applyView();
    if (focusedId) {
      const again = this.nodeLayer.querySelector(`[data-node-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  at(node) {
    const base = this.positions.of(node);
    const offset = this.dragOffsets && this.dragOffsets.get(node.id);
    return offset ? { x: base.x + offset.x, y: base.y + offset.y } : base;
  }

  drawNode(node) {
    const at = this.at(node);
    const size = nodeSize(node, this.catalog);
    const ports = portsOf(node, this.catalog);
    const selected = this.store.selection.has(nodeKey(node.id));
    const problems = this.issues.forNode(node.id);
    const classes = ["node", `kind-${node.kind}`];
    if (selected) classes.push("selected");
    if (problems.errors.length) classes.push("has-error");
    else if (problems.warnings.length) classes.push("has-warning");
    const name = node.name || node.id;
    const problemText = [...problems.errors, ...problems.warnings].map((issue) => issue.message);
    const group = element("g", {
      class: classes.join(" "), "data-node-id": node.id, transform: `translate(${at.x},${at.y})`,
      tabindex: "0", role: "button", "aria-pressed": selected ? "true" : "false",
      "aria-label": `${name}, ${typeLabel(node)}${problemText.length ? `, ${problemText.length} problem${problemText.length === 1 ? "" : "s"}` : ""}`,
    });
    group.append(element("title", {}, [`${name} (${node.id}) — ${typeLabel(node)}`, ...problemText].join("\n")));
    group.append(element("rect", { class: "node-box", width: NODE_WIDTH, height: size.height, rx: 8 }));
    group.append(element("rect", { class: "node-band", width: NODE_WIDTH, height: HEADER_HEIGHT, rx: 8 }));
    group.append(element("text", { class: "node-name", x: 14, y: 20 }, shorten(name, 24)));
    group.append(element("text", { class: "node-type", x: 14, y: 37 }, shorten(typeLabel(node), 28)));
    group.append(element("path", { class: "flow flow-in", "data-flow": "in", d: diamond(0, FLOW_OFFSET_Y) }));
    const flowOut = element("path", { class: "flow flow-out", "data-flow": "out", d: diamond(NODE_WIDTH, FLOW_OFFSET_Y) });
    flowOut.append(element("title", {}, "Drag to another node: control edge (conditional from a branch)"));
    group.append(flowOut);
    ports.inputs.forEach((port, index) => group.append(this.drawPort(port, index, "in", node)));
    ports.outputs.forEach((port, index) => group.append(this.drawPort(port, index, "out")));
    return group;
  }

  drawPort(port, index, side, node = null) {
    const offset = portOffset(index, side);
    const classes = ["port", side];
    let refusal = "";
    const gesture = this.gesture;
    if (gesture && gesture.type === "connect" && side === "in") {
      // While a connection is dragged every input says whether it takes the dragged type.
      refusal = this.actions.refusal(gesture.source, gesture.port, node.id, port.name);
      classes.push(refusal ? "refuse" : "accept");
    }
    const group = element("g", { class: classes.join(" "), "data-port": port.name, "data-type": port.data_type });
    if (refusal) group.dataset.refusal = refusal;
    group.append(element("title", {}, `${side === "in" ? "Input" : "Output"} ${port.name}: ${port.data_type}`));
    group.append(element("circle", { cx: offset.x, cy: offset.y, r: 6 }));
    const label = `${port.name} · ${port.data_type}`;
    group.append(side === "in"
      ? element("text", { x: 12, y: offset.y + 4, class: "port-label" }, shorten(label, 15))
      : element("text", { x: NODE_WIDTH - 12, y: offset.y + 4, class: "port-label", "text-anchor": "end" }, shorten(label, 15)));
    return group;
  }

  portPoint(node, name, side) {
    const ports = portsOf(node, this.catalog)[side === "in" ? "inputs" : "outputs"];
    const index = Math.max(0, ports.findIndex((port) => port.name === name));
    const at = this.at(node);
    const offset = portOffset(index, side);
    return { x: at.x + offset.x, y: at.y + offset.y };
  }

  drawEdge(edge, nodesById) {
    const source = nodesById.get(edge.source);
    const target = nodesById.get(edge.target);
    if (!source || !target) return null;
    const kind = edge.kind || "data";
    let from;
    let to;
    if (kind === "data") {
      from = this.portPoint(source, edge.source_port || "value", "out");
      to = this.portPoint(target, edge.target_port || "value", "in");
    } else {
      const a = this.at(source);
      const b = this.at(target);
      from = { x: a.x + NODE_WIDTH, y: a.y + FLOW_OFFSET_Y };
      to = { x: b.x, y: b.y + FLOW_OFFSET_Y };
    }
    const id = String(edge.id);
    const classes = ["edge", `kind-${kind}`];
    if (this.store.selection.has(edgeKey(id))) classes.push("selected");
    const problems = this.issues.forEdge(id);
    if (problems.errors.length) classes.push("has-error");
    else if (problems.warnings.length) classes.push("has-warning");
    const group = element("g", { class: classes.join(" "), "data-edge-id": id });
    const description = kind === "data"
      ? `${edge.source}.${edge.source_port} → ${edge.target}.${edge.target_port}`
      : `${edge.source} → ${edge.target} (${kind}${edge.condition ? `: ${edge.condition}` : ""})`;
    group.append(element("title", {}, [`${id}: ${description}`, ...[...problems.errors, ...problems.warnings].map((issue) => issue.message)].join("\n")));
    const d = curve(from, to);
    group.append(element("path", { class: "edge-hit", d }));
    group.append(element("path", { class: "edge-line", d, "marker-end": `url(#editor-arrow-${kind})` }));
    if (kind === "conditional") {
      const text = edge.label || edge.condition || "";
      group.append(element("text", { class: "edge-label", x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 - 8, "text-anchor": "middle" }, shorten(text, 30)));
    }
    return group;
  }

  // --- view ----------------------------------------------------------------------------------

  applyView() {
    this.viewport.setAttribute("transform", `translate(${this.view.x},${this.view.y}) scale(${this.view.k})`);
  }

  toWorld(event) {
    const box = this.svg.getBoundingClientRect();
    return { x: (event.clientX - box.left - this.view.x) / this.view.k, y: (event.clientY - box.top - this.view.y) / this.view.k };
  }

  contains(clientX, clientY) {
    const box = this.svg.getBoundingClientRect();
    return clientX >= box.left && clientX <= box.right && clientY >= box.top && clientY <= box.bottom;
  }

  worldAt(clientX, clientY) {
    return this.toWorld({ clientX, clientY });
  }

  zoom(factor, center = null) {
    const box = this.svg.getBoundingClientRect();
    const cx = center ? center.x : box.width / 2;
    const cy = center ? center.y : box.height / 2;
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.view.k * factor));
    this.view.x = cx - ((cx - this.view.x) * k) / this.view.k;
    this.view.y = cy - ((cy - this.view.y) * k) / this.view.k;
    this.view.k = k;
    this.applyView();
  }

  // Show every node; with `readable`, never below a zoom where labels stay legible (the first
  // view of a large workflow starts at its left edge instead of shrinking it to dots).
  fit({ readable = false } = {}) {
    const nodes = this.store.nodes;
    const box = this.svg.getBoundingClientRect();
    if (!nodes.length || !box.width) {
      this.view = { x: 0, y: 0, k: 1 };
      this.applyView();
      return;
    }
    let left = Infinity; let top = Infinity; let right = -Infinity; let bottom = -Infinity;
    for (const node of nodes) {
      const at = this.at(node);
      const size = nodeSize(node, this.catalog);
      left = Math.min(left, at.x); top = Math.min(top, at.y);
      right = Math.max(right, at.x + size.width); bottom = Math.max(bottom, at.y + size.height);
    }
    const margin = 30;
    const fitting = Math.min((box.width - 2 * margin) / (right - left), (box.height - 2 * margin) / (bottom - top));
    const k = Math.min(1, Math.max(readable ? READABLE_ZOOM : MIN_ZOOM, fitting));
    const x = fitting >= k ? (box.width - (right - left) * k) / 2 - left * k : margin - left * k;
    const y = (bottom - top) * k <= box.height - 2 * margin ? (box.height - (bottom - top) * k) / 2 - top * k : margin - top * k;
    this.view = { k, x, y };
    this.applyView();
  }

  reveal(nodeId) {
    const node = this.store.node(nodeId);
    if (!node) return;
    const box = this.svg.getBoundingClientRect();
    const at = this.at(node);
    const size = nodeSize(node, this.catalog);
    const screenX = at.x * this.view.k + this.view.x;
    const screenY = at.y * this.view.k + this.view.y;
    if (screenX < 0 || screenY < 0 || screenX + size.width * this.view.k > box.width || screenY + size.height * this.view.k > box.height) {
      this.view.x = box.width / 2 - (at.x + size.width / 2) * this.view.k;
      this.view.y = box.height / 2 - (at.y + size.height / 2) * this.view.k;
      this.applyView();
    }
  }

  wheel(event) {
    event.preventDefault();
    const box = this.svg.getBoundingClientRect();
    this.zoom(event.deltaY > 0 ? 1 / 1.12 : 1.12, { x: event.clientX - box.left, y: event.clientY - box.top });
  }

  // --- gestures ------------------------------------------------------------------------------

  pointerDown(event) {
    if (event.button !== 0) return;
    const target = event.target;
    const nodeElement = target.closest(".node");
    const portElement = target.closest(".port");
    const flowElement = target.closest(".flow-out");
    const edgeElement = target.closest(".edge");
    const start = { x: event.clientX, y: event.clientY };
    this.svg.setPointerCapture(event.pointerId);
    if (portElement && portElement.classList.contains("out") && nodeElement) {
      event.preventDefault();
      this.startConnect(nodeElement.dataset.nodeId, portElement.dataset.port, portElement.dataset.type, start);
      return;
    }
    if (flowElement && nodeElement) {
      event.preventDefault();
      this.gesture = { type: "flow", source: nodeElement.dataset.nodeId, start };
      this.svg.classList.add("connecting-flow");
      this.setHint("Drop on another node to run it after this one.");
      return;
    }
    if (nodeElement) {
      const id = nodeElement.dataset.nodeId;
      const key = nodeKey(id);
      const additive = event.shiftKey || event.ctrlKey || event.metaKey;
      if (additive) this.store.select([key], { toggle: true });
      else if (!this.store.selection.has(key)) this.store.select([key]);
      this.gesture = { type: "move", start, ids: this.store.selectedNodeIds(), moved: false };
      return;
    }
    if (edgeElement) {
      const key = edgeKey(edgeElement.dataset.edgeId);
      this.store.select([key], { toggle: event.shiftKey || event.ctrlKey || event.metaKey });
      this.gesture = null;
      return;
    }
    if (event.shiftKey) {
      this.gesture = { type: "marquee", start, origin: this.toWorld(event) };
      return;
    }
    this.gesture = { type: "pan", start, view: { ...this.view }, moved: false };
    this.svg.classList.add("panning");
  }

  startConnect(sourceId, port, type, start) {
    this.gesture = { type: "connect", source: sourceId, port, dataType: type, start, over: null };
    this.svg.classList.add("connecting");
    this.render();
    this.setHint(`Connecting ${port} (${type}): drop on a highlighted input. Greyed inputs cannot take ${type}.`);
  }

  pointerMove(event) {
    const gesture = this.gesture;
    if (!gesture) return;
    const dx = event.clientX - gesture.start.x;
    const dy = event.clientY - gesture.start.y;
    if (gesture.type === "pan") {
      gesture.moved = gesture.moved || Math.hypot(dx, dy) > DRAG_THRESHOLD;
      this.view.x = gesture.view.x + dx;
      this.view.y = gesture.view.y + dy;
      this.applyView();
    } else if (gesture.type === "move") {
      if (!gesture.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) return;
      gesture.moved = true;
      const offset = { x: dx / this.view.k, y: dy / this.view.k };
      this.dragOffsets = new Map(gesture.ids.map((id) => [id, offset]));
      this.schedule();
    } else if (gesture.type === "connect") {
      const node = this.store.node(gesture.source);
      const from = this.portPoint(node, gesture.port, "out");
      const to = this.toWorld(event);
      const over = this.inputUnder(event.clientX, event.clientY);
      this.wire.setAttribute("d", curve(from, to));
      this.wire.classList.toggle("refused", Boolean(over && over.classList.contains("refuse")));
      this.wire.classList.remove("off");
      if (over !== gesture.over) {
        gesture.over = over;
        if (over && over.classList.contains("refuse")) this.setHint(`Refused: ${over.dataset.refusal}`);
        else if (over) this.setHint(`Release to connect to ${over.closest(".node").dataset.nodeId} · ${over.dataset.port} (${over.dataset.type}).`);
      }
    } else if (gesture.type === "flow") {
      const node = this.store.node(gesture.source);
      const at = this.at(node);
      this.wire.setAttribute("d", curve({ x: at.x + NODE_WIDTH, y: at.y + FLOW_OFFSET_Y }, this.toWorld(event)));
      this.wire.classList.remove("refused");
      this.wire.classList.remove("off");
    } else if (gesture.type === "marquee") {
      const point = this.toWorld(event);
      const box = rectangle(gesture.origin, point);
      Object.entries({ x: box.x, y: box.y, width: box.width, height: box.height })
        .forEach(([key, value]) => this.marquee.setAttribute(key, value));
      this.marquee.classList.remove("off");
    }
  }

  inputUnder(clientX, clientY) {
    const hit = document.elementFromPoint(clientX, clientY);
    return hit && hit.closest ? hit.closest(".editor-canvas .port.in") : null;
  }

  pointerUp(event) {
    const gesture = this.gesture;
    this.gesture = null;
    if (!gesture) return;
    if (gesture.type === "pan") {
      this.svg.classList.remove("panning");
      if (!gesture.moved) this.store.clearSelection();
    } else if (gesture.type === "move") {
      this.dragOffsets = null;
      if (gesture.moved) {
        const dx = (event.clientX - gesture.start.x) / this.view.k;
        const dy = (event.clientY - gesture.start.y) / this.view.k;
        this.actions.moveNodes(gesture.ids, dx, dy);
      }
      this.schedule();
    } else if (gesture.type === "connect") {
      this.finishConnect(gesture, event);
    } else if (gesture.type === "flow") {
      this.endWire();
      const hit = document.elementFromPoint(event.clientX, event.clientY);
      const nodeElement = hit && hit.closest ? hit.closest(".editor-canvas .node") : null;
      if (nodeElement) this.actions.connectFlow(gesture.source, nodeElement.dataset.nodeId);
      else this.setHint("");
    } else if (gesture.type === "marquee") {
      this.marquee.classList.add("off");
      const box = rectangle(gesture.origin, this.toWorld(event));
      const inside = this.store.nodes.filter((node) => {
        const at = this.at(node);
        const size = nodeSize(node, this.catalog);
        return at.x >= box.x && at.y >= box.y && at.x + size.width <= box.x + box.width && at.y + size.height <= box.y + box.height;
      });
      this.store.select(inside.map((node) => nodeKey(node.id)), { add: true });
      this.announce(`${inside.length} node${inside.length === 1 ? "" : "s"} added to the selection.`);
    }
  }

  finishConnect(gesture, event) {
    this.endWire();
    const over = this.inputUnder(event.clientX, event.clientY);
    if (over) {
      const targetId = over.closest(".node").dataset.nodeId;
      if (over.classList.contains("refuse")) {
        this.setHint(`Refused: ${over.dataset.refusal}`);
        this.announce(`Not connected. ${over.dataset.refusal}`);
        return;
      }
      this.actions.connect(gesture.source, gesture.port, targetId, over.dataset.port);
      this.setHint("");
      return;
    }
    // Dropped on a node's body: its first input that takes the type and is still free.
    const hit = document.elementFromPoint(event.clientX, event.clientY);
    const nodeElement = hit && hit.closest ? hit.closest(".editor-canvas .node") : null;
    if (nodeElement && nodeElement.dataset.nodeId !== gesture.source) {
      const targetId = nodeElement.dataset.nodeId;
      const target = this.store.node(targetId);
      const fed = new Set(this.store.edges.filter((edge) => edge.target === targetId && edge.kind === "data").map((edge) => edge.target_port));
      const port = portsOf(target, this.catalog).inputs.find((candidate) => !fed.has(candidate.name)
        && !this.actions.refusal(gesture.source, gesture.port, targetId, candidate.name));
      if (port) {
        this.actions.connect(gesture.source, gesture.port, targetId, port.name);
        this.setHint("");
      } else {
        const message = `${target.name || targetId} has no free input that takes ${gesture.dataType}.`;
        this.setHint(`Refused: ${message}`);
        this.announce(`Not connected. ${message}`);
      }
      return;
    }
    this.setHint("");
  }

  endWire() {
    this.wire.classList.add("off");
    this.svg.classList.remove("connecting", "connecting-flow");
    this.render();
  }

  cancelGesture() {
    this.gesture = null;
    this.dragOffsets = null;
    this.endWire();
    this.marquee.classList.add("off");
    this.svg.classList.remove("panning");
    this.schedule();
  }

  setHint(text) {
    this.hint.textContent = text;
    this.hint.classList.toggle("refused", text.startsWith("Refused"));
  }

  // --- keyboard ------------------------------------------------------------------------------

  focusIn(event) {
    const nodeElement = event.target.closest && event.target.closest(".node");
    if (!nodeElement) return;
    const key = nodeKey(nodeElement.dataset.nodeId);
    if (!this.store.selection.has(key)) this.store.select([key]);
  }

  keyDown(event) {
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const step = steps[event.key];
    if (step && this.store.selectedNodeIds().length && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      const distance = event.shiftKey ? 50 : 10;
      this.actions.moveNodes(this.store.selectedNodeIds(), step[0] * distance, step[1] * distance, { coalesce: "keyboard-move" });
      return;
    }
    if (event.key === "Escape" && this.gesture) {
      this.cancelGesture();
      this.setHint("");
    }
  }
}

// Put `fresh` into `layer` in order, keeping each existing element whose markup is unchanged, so
// focus, hover and anything holding an element survive a redraw that did not touch it.
const markupOf = new WeakMap();

function sync(layer, fresh, key) {
  const existing = new Map([...layer.children].map((child) => [child.getAttribute(key), child]));
  fresh.forEach((element, index) => {
    const markup = element.outerHTML;
    const old = existing.get(element.getAttribute(key));
    existing.delete(element.getAttribute(key));
    let keep = element;
    if (old && markupOf.get(old) === markup) keep = old;
    else markupOf.set(element, markup);
    const current = layer.children[index];
    if (current !== keep) layer.insertBefore(keep, current || null);
    if (old && old !== keep) old.remove();
  });
  for (const stale of existing.values()) stale.remove();
}

function diamond(x, y) {
  const r = 6;
  return `M${x},${y - r} L${x + r},${y} L${x},${y + r} L${x - r},${y} Z`;
}

function rectangle(a, b) {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y) };
}
