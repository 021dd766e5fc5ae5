// The palette: every node type of the catalog, grouped by kind and searchable. Drag an entry onto
// the canvas to place it there; click it, or press Enter on it, to add it beside the others.

const DRAG_THRESHOLD = 4;

export class Palette {
  constructor({ root, search, catalog, groups, actions, canvas, showCanvas }) {
    this.root = root;
    this.search = search;
    this.catalog = catalog;
    this.actions = actions;
    this.canvas = canvas;
    this.showCanvas = showCanvas;
    this.drag = null;
    this.suppressClick = false;
    this.build(groups);
    search.addEventListener("input", () => this.filter(search.value));
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        const first = this.root.querySelector(".palette-item:not([hidden])");
        if (first) first.focus();
      }
    });
  }

  build(groups) {
    const sections = groups.map((group) => {
      const entries = this.catalog.entries.filter((entry) => entry.group === group.id);
      const section = document.createElement("section");
      section.className = "palette-group";
      section.dataset.group = group.id;
      const heading = document.createElement("h3");
      heading.id = `palette-group-${group.id}`;
      heading.textContent = group.title;
      const list = document.createElement("ul");
      list.setAttribute("aria-labelledby", heading.id);
      for (const entry of entries) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = `palette-item kind-${entry.kind}`;
        button.dataset.kind = entry.kind;
        button.dataset.type = entry.type;
        button.dataset.search = `${entry.title} ${entry.type} ${entry.kind} ${entry.description}`.toLowerCase();
        button.title = entry.description;
        const title = document.createElement("span");
        title.className = "palette-title";
        title.textContent = entry.title;
        const type = document.createElement("span");
        type.className = "palette-type";
        type.textContent = entry.type || entry.kind;
        button.append(title, type);
        button.setAttribute("aria-label", `Add ${entry.title} (${entry.type || entry.kind}): ${entry.description}`);
        button.addEventListener("click", () => this.clicked(entry));
        button.addEventListener("pointerdown", (event) => this.pointerDown(event, entry, button));
        item.append(button);
        list.append(item);
      }
      section.append(heading, list);
      return section;
    });
    this.empty = document.createElement("p");
    this.empty.className = "muted small palette-empty";
    this.empty.hidden = true;
    this.empty.textContent = "No node type matches.";
    this.root.replaceChildren(...sections, this.empty);
  }

  filter(text) {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const section of this.root.querySelectorAll(".palette-group")) {
      let inSection = 0;
      for (const button of section.querySelectorAll(".palette-item")) {
        const match = words.every((word) => button.dataset.search.includes(word));
        button.parentElement.hidden = !match;
        button.hidden = !match;
        inSection += match ? 1 : 0;
      }
      section.hidden = inSection === 0;
      shown += inSection;
    }
    this.empty.hidden = shown > 0;
  }

  clicked(entry) {
    if (this.suppressClick) {
      this.suppressClick = false;
      return;
    }
    this.showCanvas(false);
    const id = this.actions.addNode(entry, null);
    this.canvas.reveal(id);
  }

  pointerDown(event, entry, button) {
    if (event.button !== 0) return;
    this.drag = { entry, start: { x: event.clientX, y: event.clientY }, ghost: null };
    button.setPointerCapture(event.pointerId);
    const move = (moveEvent) => this.pointerMove(moveEvent);
    const up = (upEvent) => {
      button.removeEventListener("pointermove", move);
      button.removeEventListener("pointerup", up);
      button.removeEventListener("pointercancel", up);
      this.pointerUp(upEvent);
    };
    button.addEventListener("pointermove", move);
    button.addEventListener("pointerup", up);
    button.addEventListener("pointercancel", up);
  }

  pointerMove(event) {
    const drag = this.drag;
    if (!drag) return;
    if (!drag.ghost) {
      if (Math.hypot(event.clientX - drag.start.x, event.clientY - drag.start.y) < DRAG_THRESHOLD) return;
      drag.ghost = document.createElement("div");
      drag.ghost.className = `palette-ghost kind-${drag.entry.kind}`;
      drag.ghost.textContent = drag.entry.title;
      drag.ghost.setAttribute("aria-hidden", "true");
      document.body.append(drag.ghost);
    }
    drag.ghost.style.left = `${event.clientX + 8}px`;
    drag.ghost.style.top = `${event.clientY + 8}px`;
    drag.ghost.classList.toggle("over-canvas", this.canvas.contains(event.clientX, event.clientY));
  }

  pointerUp(event) {
    const drag = this.drag;
    this.drag = null;
    if (!drag || !drag.ghost) return;
    drag.ghost.remove();
    this.suppressClick = true;
    setTimeout(() => { this.suppressClick = false; }, 0);
    if (!this.canvas.contains(event.clientX, event.clientY)) return;
    const point = this.canvas.worldAt(event.clientX, event.clientY);
    this.actions.addNode(drag.entry, { x: point.x - 20, y: point.y - 20 });
  }
}
