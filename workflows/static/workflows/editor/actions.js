// The editing actions every view shares (canvas, outline, side panel, keyboard): each is one
// undoable step on the store, announced to screen readers.

import { freshEdgeId, freshNodeId, newNode, portsOf, NODE_WIDTH } from "./model.js";
import { edgeKey, nodeKey } from "./store.js";

export class Actions {
  constructor({ store, catalog, announce, positions }) {
    this.store = store;
    this.catalog = catalog;
    this.announce = announce;
    this.positions = positions;  // where each node is drawn (document position or auto-layout)
    this.clipboard = null;
  }

  addNode(entry, position) {
    const taken = new Set(this.store.nodes.map((node) => node.id));
    const node = newNode(entry, taken, position || this.freeSpot());
    this.store.commit(`Add ${node.name}`, (document) => { document.nodes.push(node); });
    this.store.select([nodeKey(node.id)]);
    this.announce(`Added node ${node.name} (${entry.title}).`);
    return node.id;
  }

  // To the right of everything, level with the selected node (or the top): where a keyboard
  // user's new node cannot hide another.
  freeSpot() {
    let right = 40;
    let top = 40;
    for (const node of this.store.nodes) {
      const at = this.positions.of(node);
      right = Math.max(right, at.x + NODE_WIDTH + 60);
    }
    const selected = this.store.selectedNodeIds().map((id) => this.store.node(id)).filter(Boolean);
    if (selected.length) top = this.positions.of(selected[0]).y;
    return { x: right, y: top };
  }

  // Why a data edge from source.sourcePort into target.targetPort is refused, or "" when allowed.
  refusal(sourceId, sourcePort, targetId, targetPort) {
    if (sourceId === targetId) return "A node cannot feed itself.";
    const source = this.store.node(sourceId);
    const target = this.store.node(targetId);
    if (!source || !target) return "Unknown node.";
    const output = portsOf(source, this.catalog).outputs.find((port) => port.name === sourcePort);
    const input = portsOf(target, this.catalog).inputs.find((port) => port.name === targetPort);
    if (!output || !input) return "Unknown port.";
    if (!this.catalog.compatible(output.data_type, input.data_type)) {
      return `${output.data_type} cannot flow into ${input.data_type}: ${target.name || target.id} · ${input.name} expects ${input.data_type}.`;
    }
    return "";
  }

  connect(sourceId, sourcePort, targetId, targetPort) {
    const refusal = this.refusal(sourceId, sourcePort, targetId, targetPort);
    if (refusal) {
      this.announce(`Not connected. ${refusal}`);
      return null;
    }
    const edgeId = freshEdgeId(this.store.edges);
    const source = this.store.node(sourceId);
    const target = this.store.node(targetId);
    const label = `Connect ${source.name} · ${sourcePort} → ${target.name} · ${targetPort}`;
    this.store.commit(label, (document) => {
      document.edges.push({ id: edgeId, kind: "data", source: sourceId, source_port: sourcePort,
                            target: targetId, target_port: targetPort });
    });
    this.store.select([edgeKey(edgeId)]);
    this.announce(`${label}.`);
    return edgeId;
  }

  // A control edge, or a conditional one out of a branch (its condition starts as the branch's).
  connectFlow(sourceId, targetId, { kind = null, condition = null } = {}) {
    if (sourceId === targetId) {
      this.announce("Not connected. A node cannot follow itself.");
      return null;
    }
    const source = this.store.node(sourceId);
    const target = this.store.node(targetId);
    const chosen = kind || (source.kind === "control" && source.control === "branch" ? "conditional" : "control");
    const edge = { id: freshEdgeId(this.store.edges), kind: chosen, source: sourceId, target: targetId };
    if (chosen === "conditional") edge.condition = condition || source.condition || "inputs.value";
    const label = `Connect ${source.name} → ${target.name} (${chosen})`;
    this.store.commit(label, (document) => { document.edges.push(edge); });
    this.store.select([edgeKey(edge.id)]);
    this.announce(`${label}.`);
    return edge.id;
  }

  deleteSelection() {
    const nodeIds = new Set(this.store.selectedNodeIds());
    const edgeIds = new Set(this.store.selectedEdgeIds());
    if (!nodeIds.size && !edgeIds.size) return;
    const what = describeCount(nodeIds.size, edgeIds.size);
    this.store.commit(`Delete ${what}`, (document) => {
      document.nodes = document.nodes.filter((node) => !nodeIds.has(node.id));
      document.edges = document.edges.filter((edge) => !edgeIds.has(String(edge.id))
        && !nodeIds.has(edge.source) && !nodeIds.has(edge.target));
    });
    this.announce(`Deleted ${what}. Undo brings it back.`);
  }

  copySelection() {
    const nodeIds = new Set(this.store.selectedNodeIds());
    if (!nodeIds.size) {
      this.announce("Select nodes to copy.");
      return;
    }
    const nodes = this.store.nodes.filter((node) => nodeIds.has(node.id))
      .map((node) => ({ ...structuredClone(node), position: this.positions.of(node) }));
    const edges = this.store.edges.filter((edge) => nodeIds.has(edge.source) && nodeIds.has(edge.target));
    this.clipboard = structuredClone({ nodes, edges });
    this.announce(`Copied ${describeCount(nodes.length, edges.length)}.`);
  }

  paste() {
    if (!this.clipboard) {
      this.announce("Nothing to paste: copy nodes first.");
      return;
    }
    const taken = new Set(this.store.nodes.map((node) => node.id));
    const renamed = new Map();
    const nodes = this.clipboard.nodes.map((node) => {
      const id = freshNodeId(node.id, taken);
      taken.add(id);
      renamed.set(node.id, id);
      return { ...structuredClone(node), id, position: { x: node.position.x + 40, y: node.position.y + 40 } };
    });
    const edges = [];
    const allEdges = [...this.store.edges];
    for (const edge of this.clipboard.edges) {
      const copy = { ...structuredClone(edge), id: freshEdgeId(allEdges), source: renamed.get(edge.source),
                     target: renamed.get(edge.target) };
      allEdges.push(copy);
      edges.push(copy);
    }
    this.store.commit(`Paste ${describeCount(nodes.length, edges.length)}`, (document) => {
      document.nodes.push(...nodes);
      document.edges.push(...edges);
    });
    // The next paste lands further along.
    this.clipboard.nodes = nodes.map((node) => ({ ...node, id: node.id }));
    this.clipboard.edges = edges;
    this.store.select(nodes.map((node) => nodeKey(node.id)));
    this.announce(`Pasted ${describeCount(nodes.length, edges.length)}.`);
  }

  moveNodes(ids, dx, dy, { coalesce = null } = {}) {
    if (!ids.length || (!dx && !dy)) return;
    const targets = new Set(ids);
    const start = new Map(ids.map((id) => [id, this.positions.of(this.store.node(id))]));
    this.store.commit(ids.length === 1 ? `Move ${this.store.node(ids[0]).name}` : `Move ${ids.length} nodes`,
      (document) => {
        for (const node of document.nodes) {
          if (!targets.has(node.id)) continue;
          const at = start.get(node.id);
          node.position = { x: Math.round(at.x + dx), y: Math.round(at.y + dy) };
        }
      }, { coalesce });
  }

  setPositions(positions, label) {
    this.store.commit(label, (document) => {
      for (const node of document.nodes) {
        if (positions[node.id]) node.position = { x: positions[node.id].x, y: positions[node.id].y };
      }
    });
  }

  undo() {
    const label = this.store.undo();
    this.announce(label ? `Undid ${label}.` : "Nothing to undo.");
  }

  redo() {
    const label = this.store.redo();
    this.announce(label ? `Redid ${label}.` : "Nothing to redo.");
  }

  selectAll() {
    this.store.select(this.store.nodes.map((node) => nodeKey(node.id)));
    this.announce(`Selected all ${this.store.nodes.length} nodes.`);
  }
}

export function describeCount(nodes, edges) {
  const parts = [];
  if (nodes) parts.push(`${nodes} node${nodes === 1 ? "" : "s"}`);
  if (edges) parts.push(`${edges} edge${edges === 1 ? "" : "s"}`);
  return parts.join(" and ") || "nothing";
}
