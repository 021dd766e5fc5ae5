// Makes team lists live from the team stream (/ws/teams/<id>/events/): execution rows and
// workflows' last-run badges follow executions' state changes and progress. No dependencies.
//
// The contract (docs/executions.md, "Live pages"):
//   [data-team-live]                 data-team-id: whose stream to follow (one per page)
//   [data-execution-row="<id>"]      an execution's row; cells [data-field=state] and
//                                    [data-field=progress] (a <progress> or text); data-state
//   [data-last-run-workflow="<id>"]  a workflow's last-run badge: text and data-state, and
//                                    data-execution-id of the run it shows
//   [data-executions-list]           where new executions appear: a <template
//                                    data-execution-row-template> inside is cloned (its
//                                    [data-field=id|workflow|state] filled, [data-link] href set);
//                                    optional data-workflow keeps only that workflow's runs
// Messages from several processes may overtake each other: per execution the highest
// `version` (state) and `event_seq` (progress) win.

import { LiveSocket } from "./live-socket.js";

function text(element, value) {
  if (element && element.textContent !== String(value)) element.textContent = String(value);
}

export class TeamView {
  constructor(root) {
    this.root = root;
    this.team = root.dataset.teamId;
    this.seen = new Map(); // execution id → {version, seq}
    this.socket = new LiveSocket({
      path: `/ws/teams/${this.team}/events/`,
      onMessage: (message) => this.receive(message),
      onStatus: (status) => {
        for (const element of document.querySelectorAll("[data-team-live-status]")) {
          element.dataset.liveState = status;
          text(element, status === "live" ? "live" : `${status}…`);
        }
      },
    });
  }

  newer(id, key, value) {
    const seen = this.seen.get(id) || { version: -1, seq: -1 };
    if (typeof value !== "number" || value < seen[key]) return false;
    seen[key] = value;
    this.seen.set(id, seen);
    return true;
  }

  receive(message) {
    if (message.target?.type !== "execution") return;
    const id = message.target.id;
    const data = message.data || {};
    if (message.type === "execution.state_changed" && this.newer(id, "version", data.version)) {
      this.ensureRow(id, data);
      this.setState(id, data.workflow, data.state);
    } else if (message.type === "execution.progress" && this.newer(id, "seq", data.event_seq)) {
      this.ensureRow(id, data);
      if (this.newer(id, "version", data.version)) this.setState(id, data.workflow, data.state);
      for (const row of document.querySelectorAll(`[data-execution-row="${CSS.escape(id)}"]`)) {
        const cell = row.querySelector('[data-field="progress"]');
        const percentage = data.progress?.percentage ?? 0;
        if (cell instanceof HTMLProgressElement) {
          cell.max = 100;
          cell.value = percentage;
        }
        text(cell, `${Math.round(percentage)}%`);
      }
    }
  }

  setState(id, workflow, state) {
    for (const row of document.querySelectorAll(`[data-execution-row="${CSS.escape(id)}"]`)) {
      row.dataset.state = state;
      text(row.querySelector('[data-field="state"]'), state.replaceAll("_", " "));
    }
    if (!workflow) return;
    for (const badge of document.querySelectorAll(`[data-last-run-workflow="${CSS.escape(workflow)}"]`)) {
      badge.dataset.state = state;
      badge.dataset.executionId = id;
      text(badge, state.replaceAll("_", " "));
    }
  }

  ensureRow(id, data) {
    if (document.querySelector(`[data-execution-row="${CSS.escape(id)}"]`)) return;
    for (const list of document.querySelectorAll("[data-executions-list]")) {
      if (list.dataset.workflow && list.dataset.workflow !== data.workflow) continue;
      const template = list.querySelector("template[data-execution-row-template]");
      if (!template) continue;
      const row = template.content.firstElementChild.cloneNode(true);
      row.dataset.executionRow = id;
      text(row.querySelector('[data-field="id"]'), id.slice(0, 8));
      text(row.querySelector('[data-field="workflow"]'), data.workflow || "");
      const link = row.querySelector("[data-link]");
      if (link) link.href = `/executions/${id}/`;
      template.after(row);
    }
  }
}

export function watchTeam(scope = document) {
  const root = scope.querySelector("[data-team-live]");
  if (root && !root.symphonyLive) root.symphonyLive = new TeamView(root);
  return root?.symphonyLive;
}

watchTeam();
