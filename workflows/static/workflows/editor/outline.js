// The outline: every node and edge as a list a keyboard or a screen reader walks, with the
// canvas's actions — select (the side panel then edits it), delete, copy — on each row.

import { edgeLabel, typeLabel } from "./model.js";
import { h } from "./dom.js";
import { edgeKey, nodeKey } from "./store.js";

export class Outline {
  constructor({ root, store, actions, issues, focusInspector }) {
    this.root = root;
    this.store = store;
    this.actions = actions;
    this.issues = issues;
    this.focusInspector = focusInspector;
  }

  render() {
    const focusedKey = document.activeElement && this.root.contains(document.activeElement) ? document.activeElement.dataset.key : null;
    const nodesById = this.store.nodesById();
    const row = (key, label, detail, problems, deleteLabel) => {
      const selected = this.store.selection.has(key);
      const problemCount = problems.errors.length + problems.warnings.length;
      return h("li", { className: `outline-row${selected ? " selected" : ""}${problems.errors.length ? " has-error" : ""}` },
        h("button", { type: "button", className: "outline-select", dataset: { key }, "aria-pressed": selected ? "true" : "false",
          onclick: () => { this.store.select([key]); this.focusInspector(); } },
          h("span", { className: "outline-label" }, label), " ",
          h("span", { className: "muted small" }, detail),
          problemCount ? h("span", { className: `badge ${problems.errors.length ? "bad" : "warn"}` }, `${problemCount} problem${problemCount === 1 ? "" : "s"}`) : null),
        h("button", { type: "button", className: "button small danger", dataset: { key: `delete:${key}` }, "aria-label": deleteLabel,
          onclick: () => { this.store.select([key]); this.actions.deleteSelection(); } }, "Delete"));
    };
    const nodes = this.store.nodes.map((node) => row(nodeKey(node.id), node.name || node.id, typeLabel(node),
      this.issues.forNode(node.id), `Delete node ${node.name || node.id}`));
    const edges = this.store.edges.map((edge) => row(edgeKey(String(edge.id)), edgeLabel(edge, nodesById), edge.kind || "data",
      this.issues.forEdge(String(edge.id)), `Delete edge ${edge.id}`));
    this.root.replaceChildren(
      h("h3", { id: "outline-nodes" }, `Nodes (${nodes.length})`),
      nodes.length ? h("ul", { className: "outline-list", "aria-labelledby": "outline-nodes" }, nodes)
        : h("p", { className: "muted small" }, "No nodes yet: add one from the palette."),
      h("h3", { id: "outline-edges" }, `Edges (${edges.length})`),
      edges.length ? h("ul", { className: "outline-list", "aria-labelledby": "outline-edges" }, edges)
        : h("p", { className: "muted small" }, "No edges yet: select a node and use Connect in the side panel."),
    );
    if (focusedKey) {
      const again = this.root.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`);
      if (again) again.focus();
    }
  }
}
