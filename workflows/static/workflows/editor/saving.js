// Saving. A valid workflow is saved as a version through the API (create, or a new version of the
// workflow being edited). An invalid one can only be kept as a draft: a per-person copy in this
// browser's localStorage (docs/editor.md says why), written on every change and offered back when
// the editor opens again.

import { postJson } from "./api.js";

const DRAFT_PREFIX = "symphony:editor-draft:";

export class Drafts {
  constructor({ user, team, workflow }) {
    this.key = `${DRAFT_PREFIX}${user}:${workflow ? workflow.id : `new:${team.id}`}`;
    this.baseVersion = workflow ? workflow.version : null;
  }

  read() {
    try {
      const raw = window.localStorage.getItem(this.key);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  write(document) {
    try {
      window.localStorage.setItem(this.key, JSON.stringify({ document, saved_at: new Date().toISOString(), base_version: this.baseVersion }));
      return true;
    } catch (error) {
      return false;  // private mode or a full quota: the editor still works, without drafts
    }
  }

  clear() {
    try { window.localStorage.removeItem(this.key); } catch (error) { /* nothing stored */ }
  }
}

export class Saver {
  constructor({ data, store, validator, issues, drafts, button, status, changeMessage, versionField, announce, onProblems }) {
    this.data = data;
    this.store = store;
    this.validator = validator;
    this.issues = issues;
    this.drafts = drafts;
    this.button = button;
    this.status = status;
    this.changeMessage = changeMessage;
    this.versionField = versionField;
    this.announce = announce;
    this.onProblems = onProblems;
    this.savedJson = JSON.stringify(store.document);
    this.timer = null;
    this.busy = false;
    button.addEventListener("click", () => this.save());
  }

  get dirty() {
    return JSON.stringify(this.store.document) !== this.savedJson;
  }

  // After every change: keep a draft while the document differs from what is saved.
  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.dirty) this.drafts.write(this.store.document);
      else this.drafts.clear();
    }, 600);
    this.refresh();
  }

  refresh() {
    const validating = this.validator.validatedRevision !== this.store.revision;
    const valid = !validating && this.issues.valid;
    this.button.dataset.mode = valid ? "version" : "draft";
    this.button.textContent = valid ? (this.data.workflow ? "Save version" : "Create workflow") : "Save draft";
    this.button.classList.toggle("primary", valid);
    this.button.disabled = this.busy;
  }

  async save() {
    if (this.busy) return;
    this.busy = true;
    this.refresh();
    try {
      await this.validator.current();
      if (!this.issues.valid) {
        const count = this.issues.result ? this.issues.result.errors.length : 0;
        const stored = this.drafts.write(this.store.document);
        this.say(stored
          ? `Draft saved in this browser at ${new Date().toLocaleTimeString()}. It is not a version: ${count ? `fix ${count} problem${count === 1 ? "" : "s"}` : "fix the problems"} to save one.`
          : "This browser does not let the editor keep a draft; fix the problems to save a version.", "warn");
        return;
      }
      const body = { document: this.store.document, change_message: this.changeMessage.value };
      let answer;
      if (this.data.workflow) {
        if (this.versionField && this.versionField.value.trim()) body.version = this.versionField.value.trim();
        answer = await postJson(this.data.urls.update, body, "PATCH");
      } else {
        answer = await postJson(this.data.urls.create, { ...body, team: this.data.team.id });
      }
      if (!answer.ok) {
        const error = answer.body && answer.body.error ? answer.body.error : { message: "The server refused to save.", details: [] };
        this.say(`Not saved: ${error.message}`, "bad");
        if (Array.isArray(error.details) && error.details.some((item) => item && item.code)) this.onProblems(error.details);
        return;
      }
      this.savedJson = JSON.stringify(this.store.document);
      this.drafts.clear();
      const saved = answer.body;
      this.say(`Saved version ${saved.current_version.version}.`, "ok");
      window.location.assign(`/workflows/${saved.id}/`);
    } catch (error) {
      this.drafts.write(this.store.document);
      this.say("Could not reach the server; the draft is kept in this browser.", "bad");
    } finally {
      this.busy = false;
      this.refresh();
    }
  }

  say(text, kind) {
    this.status.textContent = text;
    this.status.className = `save-status small live-${kind}`;
    this.announce(text);
  }
}
