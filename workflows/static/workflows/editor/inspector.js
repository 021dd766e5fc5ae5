// The side panel: the workflow's name and description when nothing is selected; a node's name,
// settings form (generated on the server from its type's JSON Schema, by the same code as the
// template pages), ports with types, connect forms and problems; an edge's kind, ports and
// condition. Every change is one undoable step.

import { postForm, postJson } from "./api.js";
import { edgeLabel, portsOf, settingsOf, applySettings, typeLabel } from "./model.js";
import { h } from "./dom.js";
import { edgeKey, nodeKey } from "./store.js";

const KIND_NAMES = { input: "Input", output: "Output", control: "Control", operator: "Operator", instrument: "Model" };

export class Inspector {
  constructor({ root, title, store, catalog, actions, issues, urls, announce, onSelectIssue }) {
    this.root = root;
    this.title = title;
    this.store = store;
    this.catalog = catalog;
    this.actions = actions;
    this.issues = issues;
    this.urls = urls;
    this.announce = announce;
    this.onSelectIssue = onSelectIssue;
    this.shown = "";  // what the panel shows: "workflow", "node:<id>", "edge:<id>", "many"
    this.settings = null;  // {nodeId, json, form, timer, sequence}
  }

  // Redraw when the selection changes or the document changed elsewhere; a change typed here
  // keeps the panel (and the focus) as it is.
  update(change) {
    const selection = [...this.store.selection];
    const shown = selection.length === 0 ? "workflow" : selection.length === 1 ? selection[0] : "many";
    if (change && change.source === "inspector" && shown === this.shown) {
      this.refreshDynamic();
      return;
    }
    if (shown === this.shown && change && change.type === "document" && shown.startsWith("node:")) {
      // The same node changed elsewhere (undo, JSON, canvas): redraw, keeping focus where it was.
      const focused = document.activeElement && this.root.contains(document.activeElement) ? document.activeElement.id : "";
      this.draw(shown, selection);
      if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
      return;
    }
    this.draw(shown, selection);
  }

  draw(shown, selection) {
    this.flushSettings();
    this.shown = shown;
    this.settings = null;
    if (shown === "workflow") this.drawWorkflow();
    else if (shown === "many") this.drawMany(selection);
    else if (shown.startsWith("node:")) this.drawNode(this.store.node(shown.slice(5)));
    else this.drawEdge(this.store.edge(shown.slice(5)));
  }

  commit(label, mutate, coalesce) {
    this.store.commit(label, mutate, { coalesce, source: "inspector" });
  }

  // --- the workflow ---------------------------------------------------------------------------

  drawWorkflow() {
    this.title.textContent = "Workflow";
    const doc = this.store.document;
    const metadata = doc.metadata || {};
    const text = (id, label, value, onInput, attributes = {}) => [
      h("label", { for: id }, label),
      h(attributes.rows ? "textarea" : "input", { id, type: attributes.rows ? null : "text", value: value || "", ...attributes,
        oninput: (event) => onInput(event.target.value) }),
    ];
    this.root.replaceChildren(h("form", { className: "inspector-form", onsubmit: (event) => event.preventDefault() },
      text("workflow-name", "Name", doc.name, (value) => this.commit("Rename the workflow", (d) => { d.name = value; }, "workflow-name"),
        { required: true, maxlength: 200, "aria-describedby": "workflow-name-note" }),
      h("p", { className: "hint", id: "workflow-name-note" }, "Shown in lists; a workflow needs one to be saved."),
      text("workflow-description", "Description", doc.description, (value) => this.commit("Edit the description", (d) => { d.description = value; }, "workflow-description"),
        { rows: 3 }),
      text("workflow-tags", "Tags", (metadata.tags || []).join(", "), (value) => this.commit("Edit the tags", (d) => {
        d.metadata = { ...(d.metadata || {}), tags: value.split(",").map((tag) => tag.trim()).filter(Boolean) };
      }, "workflow-tags"), { "aria-describedby": "workflow-tags-note" }),
      h("p", { className: "hint", id: "workflow-tags-note" }, "Separate tags with commas."),
      text("workflow-category", "Category", metadata.category, (value) => this.commit("Edit the category", (d) => {
        d.metadata = { ...(d.metadata || {}), category: value };
      }, "workflow-category")),
    ), h("p", { className: "muted small" }, `${doc.nodes.length} node${doc.nodes.length === 1 ? "" : "s"} and ${doc.edges.length} edge${doc.edges.length === 1 ? "" : "s"}. Select a node or an edge to change it.`));
  }

  drawMany(selection) {
    const nodes = selection.filter((key) => key.startsWith("node:")).length;
    const edges = selection.length - nodes;
    this.title.textContent = "Selection";
    this.root.replaceChildren(
      h("p", {}, `${nodes} node${nodes === 1 ? "" : "s"} and ${edges} edge${edges === 1 ? "" : "s"} selected.`),
      h("div", { className: "button-row" },
        h("button", { type: "button", className: "button small", onclick: () => this.actions.copySelection() }, "Copy"),
        h("button", { type: "button", className: "button small danger", onclick: () => this.actions.deleteSelection() }, "Delete selection")),
    );
  }

  // --- a node ---------------------------------------------------------------------------------

  drawNode(node) {
    const entry = this.catalog.entryFor(node);
    this.title.textContent = `Node: ${node.name || node.id}`;
    const ports = portsOf(node, this.catalog);
    const settingsBox = h("div", { className: "inspector-settings-body", "aria-live": "polite" }, h("p", { className: "muted small" }, "Loading settings…"));
    this.root.replaceChildren(
      h("form", { className: "inspector-form", onsubmit: (event) => event.preventDefault() },
        h("label", { for: "node-name" }, "Name"),
        h("input", { id: "node-name", type: "text", value: node.name || "", maxlength: 200,
          oninput: (event) => this.commit(`Rename ${node.id}`, (d) => { findNode(d, node.id).name = event.target.value; }, `name:${node.id}`) }),
        h("p", { className: "muted small node-facts" }, `${KIND_NAMES[node.kind] || node.kind} · `, h("code", {}, typeLabel(node)), " · id ", h("code", {}, node.id)),
        entry && entry.description ? h("p", { className: "hint" }, entry.description) : null,
        h("label", { for: "node-description" }, "Description"),
        h("textarea", { id: "node-description", rows: 2, value: node.description || "",
          oninput: (event) => this.commit(`Describe ${node.name}`, (d) => { findNode(d, node.id).description = event.target.value; }, `description:${node.id}`) }),
      ),
      h("section", { className: "inspector-section", "aria-labelledby": "settings-title" },
        h("h3", { id: "settings-title" }, "Settings"),
        h("form", { id: "settings-form", className: "inspector-form", novalidate: true, onsubmit: (event) => event.preventDefault() }, settingsBox)),
      this.portsSection(node, ports),
      this.connectSection(node, ports),
      h("section", { className: "inspector-section", "aria-labelledby": "node-problems-title" },
        h("h3", { id: "node-problems-title" }, "Problems"), h("ul", { className: "issues inspector-problems" })),
      h("div", { className: "button-row" },
        h("button", { type: "button", className: "button small", onclick: () => this.actions.copySelection() }, "Copy"),
        h("button", { type: "button", className: "button small danger", onclick: () => this.actions.deleteSelection() }, `Delete ${node.name || node.id}`)),
    );
    this.loadSettings(node, entry, settingsBox);
    this.refreshDynamic();
  }

  async loadSettings(node, entry, box) {
    if (!entry) {
      box.replaceChildren(h("p", { className: "muted small" }, "This node's type is not in the catalog; edit it in the JSON tab."));
      return;
    }
    const values = settingsOf(node, entry);
    const state = { nodeId: node.id, entry, json: JSON.stringify(values), timer: null, sequence: 0 };
    this.settings = state;
    const { ok, body } = await postJson(this.urls.settings_form, { kind: node.kind, type: entry.type, values });
    if (this.settings !== state) return;
    if (!ok) {
      box.replaceChildren(h("p", { className: "error small" }, "The settings form could not be loaded."));
      return;
    }
    box.innerHTML = body;  // rendered by the server from the catalog's schema
    const form = document.getElementById("settings-form");
    const changed = () => {
      clearTimeout(state.timer);
      state.timer = setTimeout(() => this.readSettings(state, form), 250);
    };
    form.addEventListener("input", (event) => { changed(); toggleDefaultNote(event.target); });
    form.addEventListener("change", changed);
    this.decorateSettings();
  }

  // A change typed just before the panel moves to another node is still read and kept.
  flushSettings() {
    const state = this.settings;
    if (!state || !state.timer) return;
    clearTimeout(state.timer);
    state.timer = null;
    const form = document.getElementById("settings-form");
    if (form) this.readSettings(state, form);
  }

  async readSettings(state, form) {
    state.timer = null;
    const node = this.store.node(state.nodeId);
    if (!node) return;
    const data = new FormData(form);
    data.set("kind", node.kind);
    data.set("type", state.entry.type);
    const mine = ++state.sequence;
    const { ok, body } = await postForm(this.urls.settings_values, data);
    if (!ok || mine !== state.sequence || !this.store.node(state.nodeId)) return;
    this.commit(`Edit the settings of ${node.name || node.id}`, (d) => applySettings(findNode(d, state.nodeId), state.entry, body.values), `settings:${state.nodeId}`);
  }

  portsSection(node, ports) {
    const nodesById = this.store.nodesById();
    const rows = [];
    const feeds = (port, side) => this.store.edges.filter((edge) => (edge.kind || "data") === "data"
      && (side === "in" ? edge.target === node.id && edge.target_port === port.name : edge.source === node.id && edge.source_port === port.name))
      .map((edge) => {
        const other = nodesById.get(side === "in" ? edge.source : edge.target);
        return `${other ? other.name || other.id : "?"} · ${side === "in" ? edge.source_port : edge.target_port}`;
      });
    for (const [side, list] of [["in", ports.inputs], ["out", ports.outputs]]) {
      for (const port of list) {
        const linked = feeds(port, side);
        rows.push(h("tr", {},
          h("td", {}, side === "in" ? "in" : "out"),
          h("td", {}, h("code", {}, port.name)),
          h("td", {}, h("code", {}, port.data_type)),
          h("td", { className: "small" }, linked.length ? `${side === "in" ? "from" : "to"} ${linked.join(", ")}` : (side === "in" && port.required !== false ? "not connected (required)" : "not connected"))));
      }
    }
    return h("section", { className: "inspector-section", "aria-labelledby": "ports-title" },
      h("h3", { id: "ports-title" }, "Ports"),
      rows.length ? h("table", { className: "ports-table" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Side"), h("th", { scope: "col" }, "Port"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Connected"))), h("tbody", {}, rows))
        : h("p", { className: "muted small" }, "No ports."));
  }

  // The keyboard's way to connect: the same rules as dragging on the canvas.
  connectSection(node, ports) {
    const others = this.store.nodes.filter((other) => other.id !== node.id);
    const section = h("section", { className: "inspector-section", "aria-labelledby": "connect-title" }, h("h3", { id: "connect-title" }, "Connect"));
    if (ports.outputs.length) {
      const fromId = "connect-from";
      const toId = "connect-to";
      const from = h("select", { id: fromId }, ports.outputs.map((port) => h("option", { value: port.name }, `${port.name} (${port.data_type})`)));
      const to = h("select", { id: toId });
      const fill = () => {
        const options = [];
        for (const other of others) {
          for (const port of portsOf(other, this.catalog).inputs) {
            const refusal = this.actions.refusal(node.id, from.value, other.id, port.name);
            options.push(h("option", { value: `${other.id}\u0000${port.name}`, disabled: Boolean(refusal) },
              `${other.name || other.id} · ${port.name} (${port.data_type})${refusal ? " — incompatible" : ""}`));
          }
        }
        to.replaceChildren(...(options.length ? options : [h("option", { value: "", disabled: true }, "No other node has inputs")]));
        const firstAllowed = options.find((option) => !option.disabled);
        if (firstAllowed) to.value = firstAllowed.value;
      };
      from.addEventListener("change", fill);
      fill();
      section.append(h("div", { className: "connect-row" },
        h("div", {}, h("label", { for: fromId }, "Output"), from),
        h("div", {}, h("label", { for: toId }, "Into input"), to)),
        h("button", { type: "button", id: "connect-ports-button", className: "button small", onclick: () => {
          if (!to.value) return;
          const [targetId, targetPort] = to.value.split("\u0000");
          this.actions.connect(node.id, from.value, targetId, targetPort);
        } }, "Connect ports"));
    }
    if (others.length) {
      const isBranch = node.kind === "control" && node.control === "branch";
      const targetId = "flow-to";
      const kindId = "flow-kind";
      const conditionId = "flow-condition";
      const target = h("select", { id: targetId }, others.map((other) => h("option", { value: other.id }, other.name || other.id)));
      const kind = h("select", { id: kindId }, h("option", { value: "control", selected: !isBranch }, "control (order only)"),
        h("option", { value: "conditional", selected: isBranch }, "conditional (when a condition holds)"));
      const condition = h("input", { id: conditionId, type: "text", value: node.condition || "inputs.value", spellcheck: "false" });
      const conditionBox = h("div", { hidden: kind.value !== "conditional" }, h("label", { for: conditionId }, "Condition"), condition);
      kind.addEventListener("change", () => { conditionBox.hidden = kind.value !== "conditional"; });
      section.append(h("div", { className: "connect-row" },
        h("div", {}, h("label", { for: targetId }, "Then run"), target),
        h("div", {}, h("label", { for: kindId }, "Edge"), kind)),
        conditionBox,
        h("button", { type: "button", id: "add-flow-button", className: "button small", onclick: () => this.actions.connectFlow(node.id, target.value, { kind: kind.value, condition: condition.value }) }, "Add edge"));
    }
    if (!ports.outputs.length && !others.length) section.append(h("p", { className: "muted small" }, "Add another node to connect this one."));
    return section;
  }

  // --- an edge --------------------------------------------------------------------------------

  drawEdge(edge) {
    const nodesById = this.store.nodesById();
    const source = nodesById.get(edge.source);
    const target = nodesById.get(edge.target);
    this.title.textContent = `Edge ${edge.id}`;
    const kind = edge.kind || "data";
    const id = String(edge.id);
    const change = (label, mutate, coalesce) => this.commit(label, (d) => mutate(d.edges.find((item) => String(item.id) === id)), coalesce);
    const kindSelect = h("select", { id: "edge-kind" }, ["data", "control", "conditional"].map((value) => h("option", { value, selected: value === kind }, value)));
    kindSelect.addEventListener("change", () => change(`Make edge ${id} ${kindSelect.value}`, (item) => {
      item.kind = kindSelect.value;
      if (item.kind === "data") {
        item.source_port = item.source_port || (source ? (portsOf(source, this.catalog).outputs[0] || {}).name : "value") || "value";
        item.target_port = item.target_port || (target ? (portsOf(target, this.catalog).inputs[0] || {}).name : "value") || "value";
        delete item.condition;
      } else {
        delete item.source_port;
        delete item.target_port;
        delete item.transform;
        if (item.kind === "conditional") item.condition = item.condition || (source && source.condition) || "inputs.value";
        else delete item.condition;
      }
    }));
    const children = [
      h("p", {}, edgeLabel(edge, nodesById)),
      h("label", { for: "edge-kind" }, "Kind"), kindSelect,
    ];
    if (kind === "data" && source && target) {
      const sourcePort = h("select", { id: "edge-source-port" }, portsOf(source, this.catalog).outputs.map((port) => h("option", { value: port.name, selected: port.name === edge.source_port }, `${port.name} (${port.data_type})`)));
      const targetPort = h("select", { id: "edge-target-port" }, portsOf(target, this.catalog).inputs.map((port) => {
        const refusal = this.actions.refusal(source.id, edge.source_port, target.id, port.name);
        return h("option", { value: port.name, selected: port.name === edge.target_port, disabled: Boolean(refusal) && port.name !== edge.target_port }, `${port.name} (${port.data_type})${refusal ? " — incompatible" : ""}`);
      }));
      sourcePort.addEventListener("change", () => change(`Reconnect edge ${id}`, (item) => { item.source_port = sourcePort.value; }));
      targetPort.addEventListener("change", () => change(`Reconnect edge ${id}`, (item) => { item.target_port = targetPort.value; }));
      children.push(h("label", { for: "edge-source-port" }, `Output of ${source.name || source.id}`), sourcePort,
        h("label", { for: "edge-target-port" }, `Input of ${target.name || target.id}`), targetPort);
    }
    if (kind === "conditional") {
      children.push(h("label", { for: "edge-condition" }, "Condition"),
        h("textarea", { id: "edge-condition", rows: 2, className: "code", spellcheck: "false", value: edge.condition || "", "aria-describedby": "edge-condition-hint",
          oninput: (event) => change(`Edit the condition of edge ${id}`, (item) => { item.condition = event.target.value; }, `condition:${id}`) }),
        h("p", { className: "hint expression-hint", id: "edge-condition-hint" }, source ? inputsHint(source, this.store, this.catalog, "Taken when this holds once the source has finished. It reads the source's inputs:") : ""),
        h("label", { for: "edge-label" }, "Label"),
        h("input", { id: "edge-label", type: "text", value: edge.label || "", maxlength: 100,
          oninput: (event) => change(`Label edge ${id}`, (item) => { if (event.target.value) item.label = event.target.value; else delete item.label; }, `label:${id}`) }));
    }
    this.root.replaceChildren(
      h("form", { className: "inspector-form", onsubmit: (event) => event.preventDefault() }, children),
      h("section", { className: "inspector-section", "aria-labelledby": "edge-problems-title" },
        h("h3", { id: "edge-problems-title" }, "Problems"), h("ul", { className: "issues inspector-problems" })),
      h("div", { className: "button-row" }, h("button", { type: "button", className: "button small danger", onclick: () => this.actions.deleteSelection() }, `Delete edge ${id}`)),
    );
    this.refreshDynamic();
  }

  // --- what changes with validation and edits -------------------------------------------------

  refreshDynamic() {
    const list = this.root.querySelector(".inspector-problems");
    if (!list) return;
    const [kind, id] = this.shown.startsWith("node:") ? ["node", this.shown.slice(5)] : ["edge", this.shown.slice(5)];
    const problems = kind === "node" ? this.issues.forNode(id) : this.issues.forEdge(id);
    const items = [...problems.errors.map((issue) => [issue, "error"]), ...problems.warnings.map((issue) => [issue, "warning"])];
    list.replaceChildren(...(items.length ? items.map(([issue, severity]) => h("li", { className: `issue ${severity}` },
      h("span", { className: `badge ${severity === "error" ? "bad" : "warn"}` }, issue.code), " ", issue.message))
      : [h("li", { className: "muted small" }, this.issues.result ? "None." : "Not validated yet.")]));
    this.decorateSettings();
  }

  // Field errors from validation, and what `inputs.*` holds beside expression fields.
  decorateSettings() {
    const form = document.getElementById("settings-form");
    if (!form || !this.shown.startsWith("node:")) return;
    const node = this.store.node(this.shown.slice(5));
    if (!node) return;
    const entry = this.catalog.entryFor(node);
    const problems = this.issues.forNode(node.id).errors;
    for (const wrapper of form.querySelectorAll(".tpl-field")) {
      const name = wrapper.dataset.parameter;
      const control = wrapper.querySelector("input, select, textarea");
      const notes = wrapper.querySelector(".field-notes");
      const label = wrapper.querySelector("label");
      const mine = problems.filter((issue) => fieldOf(issue, entry) === name);
      notes.querySelectorAll(".field-error").forEach((item) => item.remove());
      wrapper.classList.toggle("has-error", mine.length > 0);
      if (control) {
        if (mine.length) control.setAttribute("aria-invalid", "true");
        else control.removeAttribute("aria-invalid");
      }
      const labelText = label ? label.textContent.replace("*", "").trim() : name;
      for (const issue of mine) notes.append(h("p", { className: "error small field-error" }, `${labelText}: ${cleanMessage(issue.message)}`));
    }
    const fields = form.querySelector("[data-expression-fields]");
    const expressionFields = fields ? JSON.parse(fields.dataset.expressionFields) : [];
    for (const name of expressionFields) {
      const wrapper = form.querySelector(`.tpl-field[data-parameter="${CSS.escape(name)}"] .field-notes`);
      if (!wrapper) continue;
      let hint = wrapper.querySelector(".expression-hint");
      if (!hint) {
        hint = h("p", { className: "hint expression-hint" });
        wrapper.prepend(hint);
      }
      const intro = (entry.schema.properties[name] || {})["x-symphony-widget"] === "template"
        ? "Insert values with {{ inputs.NAME }}. This node's inputs:" : "An expression. It reads this node's inputs:";
      hint.textContent = inputsHint(node, this.store, this.catalog, intro);
    }
  }
}

function findNode(document, id) {
  return document.nodes.find((node) => node.id === id);
}

// The settings field an issue is about (its path: ["config", "temperature"] or ["condition"]).
function fieldOf(issue, entry) {
  const path = issue.path || [];
  if (!entry || !path.length) return null;
  if (entry.settings_at === "config") return path[0] === "config" && path.length > 1 ? String(path[1]) : null;
  return String(path[0]);
}

function cleanMessage(message) {
  return message.replace(/; fix it( to match the type's config schema)?\.$/, ".");
}

export function inputsHint(node, store, catalog, intro) {
  const nodesById = store.nodesById();
  const inputs = portsOf(node, catalog).inputs;
  if (!inputs.length) return `${intro} none (this node has no inputs).`;
  const parts = inputs.map((port) => {
    const feeding = store.edges.filter((edge) => (edge.kind || "data") === "data" && edge.target === node.id && edge.target_port === port.name)
      .map((edge) => { const other = nodesById.get(edge.source); return `${other ? other.name || other.id : edge.source} · ${edge.source_port}`; });
    return `inputs.${port.name} (${port.data_type}; ${feeding.length ? `from ${feeding.join(", ")}` : "not connected"})`;
  });
  return `${intro} ${parts.join("; ")}.`;
}

export function toggleDefaultNote(control) {
  const wrapper = control && control.closest ? control.closest(".tpl-field[data-default]") : null;
  if (!wrapper) return;
  const note = wrapper.querySelector("[data-default-note]");
  if (note) note.hidden = control.value !== "";
}

export { nodeKey, edgeKey };
