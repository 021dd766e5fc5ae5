// The editor's one source of truth: the workflow document, the selection and the undo history.
// Every change is a named step (`commit`); views subscribe and redraw from the store.

const HISTORY_LIMIT = 200;
const COALESCE_MS = 1500;

export class Store {
  constructor(document) {
    this.document = document;
    this.selection = new Set();  // "node:<id>" and "edge:<id>"
    this.past = [];
    this.future = [];
    this.listeners = new Set();
    this.revision = 0;
    this.coalescing = null;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change) {
    for (const listener of this.listeners) listener(change);
  }

  get nodes() { return this.document.nodes; }
  get edges() { return this.document.edges; }

  node(id) { return this.document.nodes.find((node) => node.id === id) || null; }
  edge(id) { return this.document.edges.find((edge) => String(edge.id) === id) || null; }

  nodesById() { return new Map(this.document.nodes.map((node) => [node.id, node])); }

  // Apply `mutate` to a copy of the document as one undoable step named `label`. Steps with the
  // same `coalesce` key in quick succession (typing, arrow-key moves) undo as one.
  commit(label, mutate, { coalesce = null, source = "" } = {}) {
    const before = JSON.stringify(this.document);
    const draft = structuredClone(this.document);
    const result = mutate(draft);
    if (JSON.stringify(draft) === before) return result;
    const now = Date.now();
    const joins = coalesce && this.coalescing && this.coalescing.key === coalesce
      && now - this.coalescing.at < COALESCE_MS && this.future.length === 0;
    if (!joins) {
      this.past.push({ label, document: before, selection: [...this.selection] });
      if (this.past.length > HISTORY_LIMIT) this.past.shift();
    }
    this.coalescing = coalesce ? { key: coalesce, at: now } : null;
    this.future = [];
    this.document = draft;
    this.revision += 1;
    this.pruneSelection();
    this.emit({ type: "document", label, source });
    return result;
  }

  undo() { return this.travel(this.past, this.future, "Undid"); }
  redo() { return this.travel(this.future, this.past, "Redid"); }

  travel(from, to, verb) {
    const entry = from.pop();
    if (!entry) return null;
    to.push({ label: entry.label, document: JSON.stringify(this.document), selection: [...this.selection] });
    this.document = JSON.parse(entry.document);
    this.selection = new Set(entry.selection);
    this.coalescing = null;
    this.revision += 1;
    this.pruneSelection();
    this.emit({ type: "document", label: `${verb}: ${entry.label}`, source: "history" });
    this.emit({ type: "selection" });
    return entry.label;
  }

  get canUndo() { return this.past.length > 0; }
  get canRedo() { return this.future.length > 0; }
  get undoLabel() { return this.past.length ? this.past[this.past.length - 1].label : ""; }
  get redoLabel() { return this.future.length ? this.future[this.future.length - 1].label : ""; }

  pruneSelection() {
    for (const key of [...this.selection]) {
      const [kind, id] = splitKey(key);
      if (kind === "node" ? !this.node(id) : !this.edge(id)) this.selection.delete(key);
    }
  }

  select(keys, { add = false, toggle = false } = {}) {
    if (!add && !toggle) this.selection.clear();
    for (const key of keys) {
      if (toggle && this.selection.has(key)) this.selection.delete(key);
      else this.selection.add(key);
    }
    this.emit({ type: "selection" });
  }

  clearSelection() {
    if (!this.selection.size) return;
    this.selection.clear();
    this.emit({ type: "selection" });
  }

  selectedNodeIds() {
    return [...this.selection].filter((key) => key.startsWith("node:")).map((key) => splitKey(key)[1]);
  }

  selectedEdgeIds() {
    return [...this.selection].filter((key) => key.startsWith("edge:")).map((key) => splitKey(key)[1]);
  }
}

export function splitKey(key) {
  const index = key.indexOf(":");
  return [key.slice(0, index), key.slice(index + 1)];
}

export const nodeKey = (id) => `node:${id}`;
export const edgeKey = (id) => `edge:${id}`;
