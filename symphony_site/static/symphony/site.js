// Site-wide behaviour, all optional (every page works without it): the phone menu, confirmation
// before destructive actions, focus on a form's first error, and the "default is used" notes.

// The phone menu: the header stays one line; nav and account sit behind "Menu".
const toggle = document.querySelector("[data-menu-toggle]");
if (toggle) {
  const menu = document.getElementById(toggle.getAttribute("aria-controls"));
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  });
}

// A form with data-confirm asks first, in a dialog (Escape or Cancel keeps everything as it is).
const dialog = document.getElementById("confirm-dialog");
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === "true" || !dialog || !dialog.showModal) return;
  event.preventDefault();
  document.getElementById("confirm-title").textContent = form.dataset.confirmTitle || "Are you sure?";
  document.getElementById("confirm-text").textContent = form.dataset.confirm;
  document.getElementById("confirm-yes").textContent = form.dataset.confirmButton || "Yes";
  const submitter = event.submitter;
  dialog.returnValue = "";
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "confirm") return;
    form.dataset.confirmed = "true";
    form.requestSubmit(submitter && form.contains(submitter) ? submitter : undefined);
  }, { once: true });
  dialog.showModal();
});

// Logging out leaves no editor draft behind in this browser (a shared computer keeps nothing).
document.addEventListener("submit", (event) => {
  if (!event.target.matches || !event.target.matches("form[action$='/logout/']")) return;
  try {
    for (const key of Object.keys(window.localStorage)) {
      if (key.startsWith("symphony:editor-draft:")) window.localStorage.removeItem(key);
    }
  } catch (error) { /* storage unavailable: nothing was kept */ }
});

// After a refused submission the page names each problem at its field: go to the first one.
const firstInvalid = document.querySelector("main [aria-invalid=true]");
if (firstInvalid) firstInvalid.focus();

// A field with a default says so beside it while it is empty.
document.addEventListener("input", (event) => {
  const wrapper = event.target.closest && event.target.closest("[data-default]");
  if (!wrapper || wrapper.closest("#settings-form")) return;
  const note = wrapper.querySelector("[data-default-note]");
  if (note) note.hidden = event.target.value !== "";
});

// Behaviour the templates ask for with data- attributes instead of inline handlers, which the
// Content-Security-Policy refuses (docs/security.md).
// A button that asks before it submits: data-confirm-click="Delete this schedule?".
document.addEventListener("click", (event) => {
  const button = event.target.closest ? event.target.closest("[data-confirm-click]") : null;
  if (button && !window.confirm(button.dataset.confirmClick)) event.preventDefault();
});
// A select that submits its form when it changes (the team switcher).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches && field.matches("[data-submit-on-change]") && field.form) field.form.submit();
});
// A range input that shows its value in the <output> right after it.
document.addEventListener("input", (event) => {
  const field = event.target;
  if (field.matches && field.matches("[data-range-output]") && field.nextElementSibling) {
    field.nextElementSibling.value = field.value;
  }
});
