// The executions list's part of a new row that team-live.js adds from the team stream: the
// workflow's name (the stream carries its id; the filter's options know the names) and, on an
// empty list, the table shown in place of the empty state. Optional: the list works without it.

const list = document.querySelector("[data-executions-list]");
const names = new Map(
  [...document.querySelectorAll("#filter-workflow option")].filter((option) => option.value)
    .map((option) => [option.value, option.textContent]),
);

function adopt(row) {
  const id = row.querySelector('[data-field="workflow"]')?.textContent || "";
  const cell = row.querySelector("[data-workflow-name]");
  if (cell && names.has(id)) {
    const link = document.createElement("a");
    link.href = `/workflows/${id}/`;
    link.textContent = names.get(id);
    cell.replaceChildren(link);
  }
  const wrap = list.closest("[data-show-when-filled]");
  if (wrap) wrap.hidden = false;
  const empty = document.getElementById("executions-empty");
  if (empty) empty.hidden = true;
}

if (list) {
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node instanceof HTMLTableRowElement && node.dataset.executionRow) adopt(node);
      }
    }
  }).observe(list, { childList: true });
}
