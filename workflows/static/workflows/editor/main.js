// The canvas editor: wires the store, canvas, palette, side panel, outline, JSON tab, live
// validation and saving together. Plain ES modules served as static files; no build step.

import { postJson } from "./api.js";
import { Actions } from "./actions.js";
import { Canvas } from "./canvas.js";
import { h } from "./dom.js";
import { Inspector } from "./inspector.js";
import { JsonTab } from "./jsontab.js";
import { Catalog, nodeSize } from "./model.js";
import { Outline } from "./outline.js";
import { Palette } from "./palette.js";
import { Positions } from "./positions.js";
import { Drafts, Saver } from "./saving.js";
import { Store, edgeKey, nodeKey } from "./store.js";
import { Issues, Validator } from "./validation.js";

const byId = (id) => document.getElementById(id);

function start() {
  const app = byId("editor-app");
  if (!app) return;
  const data = JSON.parse(byId("editor-data").textContent);
  const catalog = new Catalog(data.palette, data.types);
  const store = new Store(structuredClone(data.document));
  const issues = new Issues();
  const positions = new Positions(store);
  const announcer = byId("editor-announcer");
  const announce = (text) => {
    announcer.textContent = "";
    // A fresh text node each time, so the same message twice is read twice.
    requestAnimationFrame(() => { announcer.textContent = text; });
  };
  const actions = new Actions({ store, catalog, announce, positions });
  const canvas = new Canvas({ svg: byId("editor-canvas"), hint: byId("canvas-hint"), store, catalog, actions, positions, issues, announce });

  // --- tabs --------------------------------------------------------------------------------
  const tabs = [...app.querySelectorAll("[role=tab]")];
  const showTab = (name, focus = true) => {
    for (const tab of tabs) {
      const active = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", active ? "true" : "false");
      tab.tabIndex = active ? 0 : -1;
      byId(tab.getAttribute("aria-controls")).hidden = !active;
      if (active && focus) tab.focus();
    }
    if (name !== "json") jsonTab.flush();
    if (name === "canvas") canvas.schedule();
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      showTab(tabs[(index + step + tabs.length) % tabs.length].dataset.tab);
    });
  });
  const showCanvas = (focus) => { if (byId("tab-canvas").hidden) showTab("canvas", focus); };

  const jsonTab = new JsonTab({ textarea: byId("json-text"), error: byId("json-error"), conflict: byId("json-conflict"), store, announce });
  const focusInspector = () => byId("inspector-title").focus();
  const selectIssue = (issue) => {
    const key = issue.edge_id ? edgeKey(String(issue.edge_id)) : issue.node_id ? nodeKey(issue.node_id)
      : issue.code === "cycle_detected" && issue.path ? nodeKey(issue.path[0]) : null;
    if (!key) return;
    store.select([key]);
    if (key.startsWith("node:") && !byId("tab-canvas").hidden) canvas.reveal(key.slice(5));
    focusInspector();
  };
  const inspector = new Inspector({ root: byId("inspector-body"), title: byId("inspector-title"), store, catalog, actions, issues,
    urls: data.urls, announce, onSelectIssue: selectIssue });
  const outline = new Outline({ root: byId("outline-body"), store, actions, issues, focusInspector });
  new Palette({ root: byId("palette-groups"), search: byId("palette-search"), catalog, groups: data.groups, actions, canvas, showCanvas });

  // --- validation and the problem list -----------------------------------------------------
  const problemList = byId("problem-list");
  const statusText = byId("validation-status");
  const renderProblems = () => {
    const all = issues.all;
    if (issues.error) statusText.textContent = issues.error;
    else if (!issues.result) statusText.textContent = "Validating…";
    else if (issues.valid) statusText.textContent = `Valid${issues.result.warnings.length ? ` · ${issues.result.warnings.length} warning${issues.result.warnings.length === 1 ? "" : "s"}` : ""} · ${store.nodes.length} node${store.nodes.length === 1 ? "" : "s"}, ${store.edges.length} edge${store.edges.length === 1 ? "" : "s"}`;
    else statusText.textContent = `${issues.result.errors.length} problem${issues.result.errors.length === 1 ? "" : "s"} to fix before saving a version`;
    statusText.className = `validation-status ${issues.valid ? "live-ok" : issues.result ? "live-bad" : "live-muted"}`;
    if (!all.length) {
      problemList.replaceChildren(h("li", { className: "muted small" }, issues.result ? "No problems." : issues.error || "Not validated yet."));
      return;
    }
    problemList.replaceChildren(...all.map((issue) => {
      const target = issue.edge_id ? `edge ${issue.edge_id}` : issue.node_id ? `node ${issue.node_id}` : "";
      const content = [h("span", { className: `badge ${issue.severity === "error" ? "bad" : "warn"}` }, issue.code), " ", issue.message];
      return h("li", { className: `issue ${issue.severity}`, dataset: { nodeId: issue.node_id || "", edgeId: issue.edge_id || "" } },
        target || issue.code === "cycle_detected"
          ? h("button", { type: "button", className: "issue-button", onclick: () => selectIssue(issue), "aria-label": `${issue.message} Select ${target || "the cycle"}.` }, content)
          : content);
    }));
  };
  let validationState = "";
  const validator = new Validator({ url: data.urls.validate, store, issues, onResult: ({ state }) => {
    validationState = state;
    if (state === "validating") {
      statusText.textContent = "Validating…";
      statusText.className = "validation-status live-muted";
    } else {
      renderProblems();
      if (state === "stale") {
        statusText.textContent = "Validating…";
        statusText.className = "validation-status live-muted";
      }
      canvas.schedule();
      outline.render();
      inspector.refreshDynamic();
    }
    saver.refresh();
  } });

  const saver = new Saver({ data, store, validator, issues, drafts: new Drafts(data), button: byId("save-button"),
    status: byId("save-status"), changeMessage: byId("change-message"), versionField: byId("version-field"), announce,
    onProblems: (details) => { issues.set({ valid: false, errors: details, warnings: [] }); renderProblems(); canvas.schedule(); } });

  // --- toolbar and keyboard ----------------------------------------------------------------
  const undoButton = byId("undo-button");
  const redoButton = byId("redo-button");
  const refreshToolbar = () => {
    undoButton.disabled = !store.canUndo;
    redoButton.disabled = !store.canRedo;
    undoButton.title = store.canUndo ? `Undo: ${store.undoLabel} (Ctrl+Z)` : "Nothing to undo";
    redoButton.title = store.canRedo ? `Redo: ${store.redoLabel} (Ctrl+Shift+Z)` : "Nothing to redo";
    const selected = store.selection.size > 0;
    byId("delete-button").disabled = !selected;
    byId("copy-button").disabled = store.selectedNodeIds().length === 0;
    byId("paste-button").disabled = !actions.clipboard;
    byId("canvas-empty").hidden = store.nodes.length > 0;
  };
  const autoLayout = async () => {
    const sizes = Object.fromEntries(store.nodes.map((node) => { const size = nodeSize(node, catalog); return [node.id, [size.width, size.height]]; }));
    const { ok, body } = await postJson(data.urls.arrange, { document: store.document, sizes });
    if (!ok) { announce("The layout could not be computed."); return; }
    actions.setPositions(body.positions, "Auto-layout");
    canvas.render();
    canvas.fit({ readable: true });
    announce("Nodes arranged in layers, left to right.");
  };
  const commands = {
    undo: () => actions.undo(), redo: () => actions.redo(), delete: () => actions.deleteSelection(),
    copy: () => { actions.copySelection(); refreshToolbar(); }, paste: () => { showCanvas(false); actions.paste(); },
    "zoom-in": () => canvas.zoom(1.2), "zoom-out": () => canvas.zoom(1 / 1.2), fit: () => canvas.fit(), layout: autoLayout,
  };
  for (const button of app.querySelectorAll("[data-command]")) {
    button.addEventListener("click", () => commands[button.dataset.command]());
  }
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (typing || !app.contains(target) && target !== document.body) return;
    const modifier = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (modifier && key === "z") commands[event.shiftKey ? "redo" : "undo"]();
    else if (modifier && key === "y") commands.redo();
    else if (modifier && key === "c") commands.copy();
    else if (modifier && key === "v") commands.paste();
    else if (modifier && key === "a") actions.selectAll();
    else if (!modifier && (event.key === "Delete" || event.key === "Backspace")) commands.delete();
    else if (!modifier && event.key === "Escape") store.clearSelection();
    else if (!modifier && (event.key === "+" || event.key === "=") && target.closest && target.closest("#editor-canvas")) commands["zoom-in"]();
    else if (!modifier && event.key === "-" && target.closest && target.closest("#editor-canvas")) commands["zoom-out"]();
    else return;
    event.preventDefault();
  });

  // --- one redraw path for every change ----------------------------------------------------
  store.subscribe((change) => {
    if (change.type === "document") {
      validator.schedule();
      saver.changed();
      jsonTab.sync(change);
    }
    canvas.schedule();
    outline.render();
    inspector.update(change);
    refreshToolbar();
  });

  // --- a draft from an earlier visit -------------------------------------------------------
  const drafts = new Drafts(data);
  const draft = drafts.read();
  if (draft && JSON.stringify(draft.document) !== JSON.stringify(store.document)) {
    const banner = byId("draft-banner");
    const when = new Date(draft.saved_at);
    byId("draft-text").textContent = `A draft from ${when.toLocaleString()}${draft.base_version ? ` (based on version ${draft.base_version})` : ""} is kept in this browser; it was never saved as a version.`;
    banner.hidden = false;
    byId("draft-restore").addEventListener("click", () => {
      store.commit("Restore the draft", (document) => {
        for (const key of Object.keys(document)) delete document[key];
        Object.assign(document, draft.document);
      });
      banner.hidden = true;
      announce("Draft restored. Undo returns to the saved version.");
    });
    byId("draft-discard").addEventListener("click", () => {
      drafts.clear();
      banner.hidden = true;
      announce("Draft discarded.");
    });
  }

  // --- first paint -------------------------------------------------------------------------
  app.hidden = false;
  byId("no-js-editor").hidden = true;
  jsonTab.write();
  outline.render();
  inspector.update(null);
  refreshToolbar();
  saver.refresh();
  validator.run();
  const firstLayout = async () => {
    if (positions.needsLayout()) {
      const sizes = Object.fromEntries(store.nodes.map((node) => { const size = nodeSize(node, catalog); return [node.id, [size.width, size.height]]; }));
      const { ok, body } = await postJson(data.urls.arrange, { document: store.document, sizes });
      if (ok) positions.arranged = body.positions;
    }
    canvas.render();
    canvas.fit({ readable: true });
    app.dataset.ready = "true";
  };
  firstLayout();
  window.symphonyEditor = { store, validator, issues, saver, validationState: () => validationState };
}

start();
