// Makes an execution page live: node colours, progress bar and ETA, the node-run table and a
// log tail follow the execution's event stream, and resume after a drop with after_seq.
// No dependencies, no build step. The page works without it; this only updates it in place.
//
// The contract with the page (docs/executions.md, "Live pages"), all inside one root:
//   [data-execution-live]      data-execution-id, data-last-seq (seq the page was rendered at),
//                              optional data-progress-url (JSON with progress.estimated_remaining_s)
//   [data-live-status]         text and data-live-state: connecting | live | reconnecting | offline
//   [data-execution-state]     text and data-state: the execution's state
//   [data-node-id]             graph nodes: data-state and class state-<state>
//   [data-node-run="<id>"]     node-run rows: data-state; cells [data-field=state|attempt|
//                              duration_ms|progress|message]
//   [data-progress-bar]        a <progress> (value, max 100); [data-progress-text] "n of m nodes"
//   [data-eta]                 text; data-eta-seconds as rendered
//   [data-log-tail]            a list; one <li data-level> per log line, at most data-max-lines
//   [data-count="<state>"]     optional: how many node runs are in that state
//   data-controls-url          optional, on the root: the controls fragment (the same partials
//                              the page drew them from); after an event that may change them it is
//                              fetched and each [data-live-part] whose data-part-key differs is
//                              swapped in; [data-has-node-actions] follows the fragment's
//   [data-state-moved]         optional, hidden: shown (its [data-state-moved-to] naming the state,
//                              the stale controls hidden) only when the fragment cannot be had

import { LiveSocket } from "./live-socket.js";

const SETTLED = new Set(["completed", "failed", "skipped"]);
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const NODE_STATE = {
  "node.queued": "queued",
  "node.started": "running",
  "node.retrying": "queued",
  "node.completed": "completed",
  "node.failed": "failed",
  "node.skipped": "skipped",
};
const ETA_REFRESH_MS = 2000;
// A burst of events (a failure, then the pause it causes) makes one request for the controls.
const CONTROLS_DEBOUNCE_MS = 250;
const CONTROLS_EVENTS = new Set(["execution.state_changed", "execution.completed", "execution.failed", "node.failed"]);
const TYPED_FIELDS = "input[id]:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), textarea[id]";

function text(element, value) {
  if (element && element.textContent !== String(value)) element.textContent = String(value);
}

// What someone typed into a part that is being replaced (a cancel reason, an answer) stays.
function keepTyped(from, to) {
  for (const field of from.querySelectorAll(TYPED_FIELDS)) {
    const twin = field.value ? to.querySelector(`#${CSS.escape(field.id)}`) : null;
    if (twin && twin.matches(TYPED_FIELDS) && !twin.disabled) twin.value = field.value;
  }
}

function seconds(value) {
  if (value == null || !Number.isFinite(value)) return "";
  if (value < 1) return "under a second left";
  if (value < 90) return `about ${Math.round(value)} s left`;
  return `about ${Math.round(value / 60)} min left`;
}

export class ExecutionView {
  constructor(root) {
    this.root = root;
    this.id = root.dataset.executionId;
    this.lastSeq = Number(root.dataset.lastSeq || 0);
    this.progressUrl = root.dataset.progressUrl || "";
    this.controlsUrl = root.dataset.controlsUrl || "";
    this.controlsTimer = null;
    this.controlsBusy = false;
    this.controlsAgain = false;
    this.states = new Map();
    for (const element of root.querySelectorAll("[data-node-run], [data-node-id]")) {
      const id = element.dataset.nodeRun ?? element.dataset.nodeId;
      if (id && !this.states.has(id)) this.states.set(id, element.dataset.state || "pending");
    }
    const eta = root.querySelector("[data-eta]");
    this.eta = eta && eta.dataset.etaSeconds !== undefined && eta.dataset.etaSeconds !== ""
      ? { seconds: Number(eta.dataset.etaSeconds), at: Date.now() } : null;
    this.etaFetched = 0;
    this.executionState = root.querySelector("[data-execution-state]")?.dataset.state || "";
    this.render();
    this.ticker = setInterval(() => this.renderEta(), 1000);
    this.socket = new LiveSocket({
      path: `/ws/executions/${this.id}/`,
      query: () => `after_seq=${this.lastSeq}`,
      onMessage: (message) => this.receive(message),
      onStatus: (status, detail) => this.status(status, detail),
    });
  }

  status(status, detail = "") {
    const element = this.root.querySelector("[data-live-status]");
    if (!element) return;
    element.dataset.liveState = status;
    const words = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", offline: "offline" };
    text(element, status === "offline" && detail ? `offline (${detail})` : words[status] || status);
  }

  receive(message) {
    if (typeof message.seq !== "number") return; // control messages: subscribed, caught_up
    if (message.seq <= this.lastSeq) return; // already shown (the server never repeats; a page may)
    this.lastSeq = message.seq;
    this.root.dataset.lastSeq = String(message.seq);
    this.apply(message);
  }

  apply(event) {
    const data = event.data || {};
    const node = event.node_id;
    const controls = this.controlsMayChange(event);
    if (event.type in NODE_STATE && node) {
      this.setNode(node, NODE_STATE[event.type], event);
      if (SETTLED.has(NODE_STATE[event.type])) this.refreshEta();
    } else if (event.type === "node.progress" && node) {
      this.cell(node, "progress", `${Math.round((data.fraction || 0) * 100)}%`);
      if (data.message) this.cell(node, "message", data.message);
    } else if (event.type === "execution.state_changed") {
      this.setExecution(data.to);
    } else if (event.type === "execution.completed") {
      this.setExecution("completed");
    } else if (event.type === "execution.failed") {
      this.setExecution("failed");
    } else if (event.type === "log") {
      this.log(event);
    }
    if (controls) this.scheduleControls();
    this.render();
  }

  setNode(node, state, event) {
    this.states.set(node, state);
    for (const element of this.root.querySelectorAll(`[data-node-id="${CSS.escape(node)}"]`)) {
      for (const name of [...element.classList]) if (name.startsWith("state-")) element.classList.remove(name);
      element.classList.add(`state-${state}`);
      element.dataset.state = state;
    }
    const row = this.row(node);
    if (row) row.dataset.state = state;
    const data = event.data || {};
    this.cell(node, "state", state);
    if (data.attempt !== undefined) this.cell(node, "attempt", data.next_attempt ?? data.attempt);
    if (data.duration_ms !== undefined) this.cell(node, "duration_ms", `${Math.round(data.duration_ms)} ms`);
    if (state === "completed") this.cell(node, "progress", "100%");
    const message = data.error?.message || data.reason;
    if (message) this.cell(node, "message", message);
  }

  setExecution(state) {
    if (!state) return;
    this.executionState = state;
    const element = this.root.querySelector("[data-execution-state]");
    if (element) {
      element.dataset.state = state;
      text(element, state.replaceAll("_", " "));
    }
    if (TERMINAL.has(state)) this.eta = null;
  }

  // The controls follow the execution's state, a failure (a held one offers Retry and Skip) and a
  // failed node leaving that state by a command (retried: queued again; skipped). Checked before
  // the event is applied, while the node's previous state is known.
  controlsMayChange(event) {
    if (CONTROLS_EVENTS.has(event.type)) return true;
    return (event.type === "node.queued" || event.type === "node.skipped") && this.states.get(event.node_id) === "failed";
  }

  scheduleControls() {
    if (!this.controlsUrl) {
      this.controlsStale();
      return;
    }
    clearTimeout(this.controlsTimer);
    this.controlsTimer = setTimeout(() => this.refreshControls(), CONTROLS_DEBOUNCE_MS);
  }

  // One request at a time; an event meanwhile asks once more after it, so the last answer is
  // always read after the last event.
  refreshControls() {
    if (this.controlsBusy) {
      this.controlsAgain = true;
      return;
    }
    this.controlsBusy = true;
    fetch(this.controlsUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then((response) => {
        // Signed out meanwhile: the request was redirected to the login page.
        if (!response.ok || response.redirected) throw new Error(`controls: ${response.status}`);
        return response.text();
      })
      .then((html) => this.swapControls(html))
      .catch(() => this.controlsStale())
      .finally(() => {
        this.controlsBusy = false;
        if (this.controlsAgain) {
          this.controlsAgain = false;
          this.refreshControls();
        }
      });
  }

  // Each part of the page whose key differs from the fragment's is replaced by the fragment's;
  // the others stay as they are, with whatever is typed in them. The fragment's forms carry the
  // session's CSRF token like the page's.
  swapControls(html) {
    const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-controls-fragment]");
    if (!fresh) throw new Error("controls: not a controls fragment");
    for (const part of [...fresh.querySelectorAll("[data-live-part]")]) {
      const current = this.root.querySelector(`[data-live-part="${CSS.escape(part.dataset.livePart)}"]`);
      if (!current) continue;
      current.hidden = false;
      if (current.dataset.partKey === part.dataset.partKey) continue;
      keepTyped(current, part);
      // Focus inside the old part goes to its twin in the new one (or the part's first control).
      const active = current.contains(document.activeElement) ? document.activeElement : null;
      current.replaceWith(part);
      if (active) {
        const twin = active.id ? part.querySelector(`#${CSS.escape(active.id)}`) : null;
        (twin || part.querySelector("button:not([disabled]), input:not([disabled]), a[href]"))?.focus();
      }
    }
    const table = this.root.querySelector("[data-has-node-actions]");
    if (table) table.dataset.hasNodeActions = fresh.dataset.hasNodeActions;
    const note = this.root.querySelector("[data-state-moved]");
    if (note) note.hidden = true;
  }

  // Without fresh controls (signed out, offline, a server error) the ones drawn earlier could only
  // be refused: they give way to a note naming the state, with a reload link.
  controlsStale() {
    for (const part of this.root.querySelectorAll('[data-live-part="controls"], [data-live-part="input-forms"]')) {
      part.hidden = true;
    }
    const table = this.root.querySelector("[data-has-node-actions]");
    if (table) table.dataset.hasNodeActions = "false";
    const note = this.root.querySelector("[data-state-moved]");
    if (note) {
      note.hidden = false;
      text(note.querySelector("[data-state-moved-to]"), this.executionState.replaceAll("_", " "));
    }
  }

  row(node) {
    return this.root.querySelector(`[data-node-run="${CSS.escape(node)}"]`);
  }

  cell(node, field, value) {
    text(this.row(node)?.querySelector(`[data-field="${field}"]`), value);
  }

  log(event) {
    const list = this.root.querySelector("[data-log-tail]");
    if (!list) return;
    const data = event.data || {};
    const item = document.createElement("li");
    item.dataset.level = data.level || "info";
    item.dataset.seq = String(event.seq);
    if (data.truncated) item.dataset.truncated = "true";
    item.textContent = `${event.node_id ? `${event.node_id}: ` : ""}${data.message || ""}`;
    list.append(item);
    const limit = Number(list.dataset.maxLines || 200);
    while (list.children.length > limit) list.firstElementChild.remove();
  }

  render() {
    const total = this.states.size;
    let settled = 0;
    for (const state of this.states.values()) if (SETTLED.has(state)) settled += 1;
    const percentage = total ? Math.round((100 * settled) / total) : 0;
    const bar = this.root.querySelector("[data-progress-bar]");
    if (bar) {
      bar.max = 100;
      bar.value = TERMINAL.has(this.executionState) && this.executionState === "completed" ? 100 : percentage;
      text(bar, `${bar.value}%`);
    }
    text(this.root.querySelector("[data-progress-text]"), `${settled} of ${total} nodes`);
    for (const element of this.root.querySelectorAll("[data-count]")) {
      let count = 0;
      for (const state of this.states.values()) if (state === element.dataset.count) count += 1;
      text(element, count);
    }
    this.renderEta();
  }

  renderEta() {
    const element = this.root.querySelector("[data-eta]");
    if (!element) return;
    if (TERMINAL.has(this.executionState)) {
      text(element, "");
      clearInterval(this.ticker);
      return;
    }
    if (!this.eta) return;
    text(element, seconds(Math.max(0, this.eta.seconds - (Date.now() - this.eta.at) / 1000)));
  }

  // The estimate is the server's (history of node durations along the critical path); after
  // nodes settle, ask again, at most every ETA_REFRESH_MS.
  refreshEta() {
    if (!this.progressUrl || Date.now() - this.etaFetched < ETA_REFRESH_MS) return;
    this.etaFetched = Date.now();
    fetch(this.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((body) => {
        const value = body?.progress?.estimated_remaining_s;
        if (typeof value === "number") this.eta = { seconds: value, at: Date.now() };
        this.renderEta();
      })
      .catch(() => {});
  }
}

export function watchExecutions(scope = document) {
  return [...scope.querySelectorAll("[data-execution-live]")].map((root) => {
    if (!root.symphonyLive) root.symphonyLive = new ExecutionView(root);
    return root.symphonyLive;
  });
}

watchExecutions();
