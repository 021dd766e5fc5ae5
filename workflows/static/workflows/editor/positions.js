// Where each node is drawn: its document position, or — for nodes never placed (no position, or
// the (0, 0) every stored node without one gets) — where the server's layered layout put it.
// Layout positions are only a view: the document changes when a person moves or arranges nodes.

export class Positions {
  constructor(store) {
    this.store = store;
    this.arranged = {};
    this.unplaced = new Set();
    this.revision = -1;
  }

  refresh() {
    if (this.revision === this.store.revision) return;
    this.revision = this.store.revision;
    const atOrigin = this.store.nodes.filter((node) => node.position && node.position.x === 0 && node.position.y === 0);
    this.unplaced = new Set(this.store.nodes
      .filter((node) => !node.position || typeof node.position.x !== "number" || typeof node.position.y !== "number")
      .map((node) => node.id));
    if (atOrigin.length > 1) for (const node of atOrigin) this.unplaced.add(node.id);
  }

  needsLayout() {
    this.refresh();
    return [...this.unplaced].some((id) => !this.arranged[id]);
  }

  of(node) {
    this.refresh();
    if (!this.unplaced.has(node.id)) return { x: node.position.x, y: node.position.y };
    return this.arranged[node.id] || { x: 40, y: 40 };
  }
}
