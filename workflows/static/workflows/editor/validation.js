// Live validation: after each change (debounced) the document goes to the validate endpoint; the
// answer marks nodes and edges on the canvas and fills the problem list, whose items select the
// node or edge they are about.

import { postJson } from "./api.js";

const EMPTY = Object.freeze({ errors: [], warnings: [] });

export class Issues {
  constructor() {
    this.result = null;
    this.error = "";
    this.byNode = new Map();
    this.byEdge = new Map();
  }

  set(result, error = "") {
    this.result = result;
    this.error = error;
    this.byNode = new Map();
    this.byEdge = new Map();
    if (!result) return;
    const add = (map, id, severity, issue) => {
      if (!map.has(id)) map.set(id, { errors: [], warnings: [] });
      map.get(id)[severity].push(issue);
    };
    for (const [severity, list] of [["errors", result.errors], ["warnings", result.warnings]]) {
      for (const issue of list) {
        if (issue.edge_id) add(this.byEdge, String(issue.edge_id), severity, issue);
        else if (issue.node_id) add(this.byNode, issue.node_id, severity, issue);
        if (issue.code === "cycle_detected") for (const id of new Set(issue.path || [])) add(this.byNode, id, severity, issue);
      }
    }
  }

  forNode(id) { return this.byNode.get(id) || EMPTY; }
  forEdge(id) { return this.byEdge.get(id) || EMPTY; }
  get valid() { return Boolean(this.result && this.result.valid); }
  get all() {
    if (!this.result) return [];
    return [...this.result.errors.map((issue) => ({ ...issue, severity: "error" })),
            ...this.result.warnings.map((issue) => ({ ...issue, severity: "warning" }))];
  }
}

export class Validator {
  constructor({ url, store, issues, onResult, delay = 350 }) {
    this.url = url;
    this.store = store;
    this.issues = issues;
    this.onResult = onResult;
    this.delay = delay;
    this.timer = null;
    this.sequence = 0;
    this.validatedRevision = -1;
    this.pending = null;
  }

  schedule() {
    clearTimeout(this.timer);
    this.onResult({ state: "validating" });
    this.timer = setTimeout(() => this.run(), this.delay);
  }

  // Resolves once the current revision has an answer (what Save waits for).
  current() {
    if (this.validatedRevision === this.store.revision && !this.timer) return Promise.resolve();
    clearTimeout(this.timer);
    return this.run();
  }

  run() {
    this.timer = null;
    const mine = ++this.sequence;
    const revision = this.store.revision;
    this.onResult({ state: "validating" });
    this.pending = postJson(this.url, this.store.document).then(({ ok, body }) => {
      if (mine !== this.sequence) return;
      if (ok) this.issues.set(body);
      else this.issues.set(null, body && body.error ? body.error.message : "The server could not validate the document.");
      this.validatedRevision = revision;
      // An answer about an older revision still marks the canvas, but the status waits for the next.
      this.onResult({ state: revision === this.store.revision ? "done" : "stale" });
    }).catch(() => {
      if (mine !== this.sequence) return;
      this.issues.set(null, "Could not reach the server to validate; your work is kept as a draft in this browser.");
      this.validatedRevision = revision;
      this.onResult({ state: "done" });
    });
    return this.pending;
  }
}
