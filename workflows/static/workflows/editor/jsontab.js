// The JSON tab: the document as text, always in step with the canvas. A valid edit here is one
// undoable step; invalid JSON is reported where it is and never applied — and a canvas change
// made meanwhile does not overwrite the text being fixed: the tab says so and offers the choice.

import { workflowFrom } from "./model.js";

export class JsonTab {
  constructor({ textarea, error, conflict, store, announce }) {
    this.textarea = textarea;
    this.error = error;
    this.conflict = conflict;
    this.store = store;
    this.announce = announce;
    this.broken = false;  // the text does not parse (or is not a workflow) and is kept as typed
    this.timer = null;
    textarea.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.apply(), 400);
    });
    conflict.querySelector("[data-json-discard]").addEventListener("click", () => {
      this.broken = false;
      this.showError("");
      this.write();
      this.announce("The JSON now shows the canvas's document.");
    });
  }

  write() {
    this.conflict.hidden = true;
    const text = JSON.stringify(this.store.document, null, 2);
    if (this.textarea.value !== text) this.textarea.value = text;
  }

  // The store changed: show it, unless the person is mid-way through fixing invalid text.
  sync(change) {
    if (change && change.source === "json") return;
    if (this.broken) {
      this.conflict.hidden = false;
      return;
    }
    this.write();
  }

  apply() {
    this.timer = null;
    let value;
    try {
      value = workflowFrom(JSON.parse(this.textarea.value));
    } catch (problem) {
      this.broken = true;
      this.showError(`Not applied — ${problem instanceof SyntaxError ? "the JSON is not valid" : "not a workflow"}: ${problem.message}`);
      return;
    }
    this.broken = false;
    this.conflict.hidden = true;
    this.showError("");
    this.store.commit("Edit the JSON", (document) => {
      for (const key of Object.keys(document)) delete document[key];
      Object.assign(document, structuredClone(value));
    }, { coalesce: "json", source: "json" });
  }

  flush() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.apply();
    }
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
    if (message) this.textarea.setAttribute("aria-invalid", "true");
    else this.textarea.removeAttribute("aria-invalid");
  }
}
