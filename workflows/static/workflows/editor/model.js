// What a workflow document means on the canvas: each node's ports and size, the type rule for
// a new edge (served by the server: the graph core's own answers), fresh ids, node creation.
// No DOM here.

export const NODE_WIDTH = 210;
export const HEADER_HEIGHT = 46;
export const PORT_ROW = 22;

export class Catalog {
  constructor(palette, types) {
    this.entries = palette;
    this.byKey = new Map(palette.map((entry) => [`${entry.kind}:${entry.type}`, entry]));
    this.accepts = new Map(Object.entries(types.accepts).map(([source, targets]) => [source, new Set(targets)]));
  }

  entryFor(node) {
    const basic = node.kind === "input" || node.kind === "output";
    return this.byKey.get(`${node.kind}:${basic ? "" : typeName(node)}`) || null;
  }

  // Whether a data edge may go from a port of type `from` into one of type `to`. A pair the
  // server did not list (a nested type typed into the JSON) is left to validation.
  compatible(from, to) {
    const targets = this.accepts.get(from);
    if (!targets || !this.accepts.has(to)) return true;
    return targets.has(to);
  }
}

export function typeName(node) {
  return node.operator || node.model_id || node.control || "";
}

export function typeLabel(node) {
  if (node.kind === "input" || node.kind === "output") return `${node.kind} · ${node.data_type || "any"}`;
  return typeName(node) || node.kind || "node";
}

function portList(declared, fallback) {
  return Array.isArray(declared) && declared.length ? declared : fallback || [];
}

export function portsOf(node, catalog) {
  if (node.kind === "input") return { inputs: [], outputs: [{ name: "value", data_type: node.data_type || "any" }] };
  if (node.kind === "output") return { inputs: [{ name: "value", data_type: node.data_type || "any" }], outputs: [] };
  const entry = catalog.entryFor(node);
  if (node.kind === "control") {
    const fallback = [{ name: "value", data_type: "any" }];
    return { inputs: entry ? entry.inputs : fallback, outputs: entry ? entry.outputs : fallback };
  }
  return { inputs: portList(node.inputs, entry && entry.inputs), outputs: portList(node.outputs, entry && entry.outputs) };
}

export function nodeSize(node, catalog) {
  const ports = portsOf(node, catalog);
  const rows = Math.max(1, ports.inputs.length, ports.outputs.length);
  return { width: NODE_WIDTH, height: HEADER_HEIGHT + rows * PORT_ROW + 6 };
}

// Where a port's dot sits relative to its node's corner.
export function portOffset(index, side) {
  return { x: side === "in" ? 0 : NODE_WIDTH, y: HEADER_HEIGHT + PORT_ROW / 2 + index * PORT_ROW };
}

export const FLOW_OFFSET_Y = 23;

export function freshNodeId(name, taken) {
  const base = (name || "node").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "node";
  let candidate = base.slice(0, 60);
  let number = 2;
  while (taken.has(candidate)) candidate = `${base.slice(0, 56)}_${number++}`;
  return candidate;
}

export function freshEdgeId(edges) {
  const taken = new Set(edges.map((edge) => String(edge.id)));
  let number = edges.length + 1;
  while (taken.has(`e${number}`)) number += 1;
  return `e${number}`;
}

export function newNode(entry, taken, position) {
  const name = entry.title;
  return {
    id: freshNodeId(name, taken), kind: entry.kind, name,
    ...structuredClone(entry.node), position: { x: Math.round(position.x), y: Math.round(position.y) },
  };
}

// The settings a node's form edits, as the form's values.
export function settingsOf(node, entry) {
  if (!entry) return {};
  if (entry.settings_at === "config") return node.config || {};
  const values = {};
  for (const name of Object.keys(entry.schema.properties || {})) {
    if (node[name] !== undefined && node[name] !== null) values[name] = node[name];
  }
  return values;
}

export function applySettings(node, entry, values) {
  if (entry.settings_at === "config") {
    node.config = values;
    return;
  }
  for (const name of Object.keys(entry.schema.properties || {})) {
    if (Object.prototype.hasOwnProperty.call(values, name)) node[name] = values[name];
    else delete node[name];
  }
}

export function edgeLabel(edge, nodesById) {
  const name = (id) => (nodesById.get(id) ? nodesById.get(id).name || id : id);
  if (edge.kind === "data" || !edge.kind) {
    return `${name(edge.source)} · ${edge.source_port || "value"} → ${name(edge.target)} · ${edge.target_port || "value"}`;
  }
  const condition = edge.kind === "conditional" ? ` when ${edge.condition || "…"}` : "";
  return `${name(edge.source)} → ${name(edge.target)} (${edge.kind}${condition})`;
}

// A bare workflow object from whatever the JSON tab holds (an envelope is unwrapped).
export function workflowFrom(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("The document must be a JSON object.");
  }
  if (value.workflow && typeof value.workflow === "object" && "schema_version" in value) value = value.workflow;
  if (!Array.isArray(value.nodes)) throw new Error("The document needs a \"nodes\" list.");
  if (!Array.isArray(value.edges)) throw new Error("The document needs an \"edges\" list.");
  if (value.nodes.some((node) => !node || typeof node !== "object" || typeof node.id !== "string")) {
    throw new Error("Every node needs a string \"id\".");
  }
  return value;
}
