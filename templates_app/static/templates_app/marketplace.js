// Instant search for the marketplace: as the user types, fetch the API and redraw the cards
// and facets. Without JavaScript the same form submits as a plain GET.
(function () {
  "use strict";
  const form = document.querySelector("[data-marketplace-search]");
  if (!form) return;
  const results = document.querySelector("[data-results]");
  const facets = document.querySelector("[data-facets]");
  const input = form.querySelector("input[type=search]");
  let timer = null;
  let latest = 0;

  const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

  function pageParams() {
    const params = new URLSearchParams(new FormData(form));
    for (const [key, value] of [...params.entries()]) if (!value) params.delete(key);
    if (params.get("sort") === "relevance") params.delete("sort");
    return params;
  }

  function card(t) {
    const quarters = Math.round(t.rating_average * 4);  // of a star: templates.css draws the fill
    const badges = [
      t.verified ? '<span class="badge ok" title="Checked by Symphony staff">✓ Verified</span>' : "",
      t.featured ? '<span class="badge">Featured</span>' : "",
      t.deprecated ? '<span class="badge warn">Deprecated</span>' : "",
      t.visibility !== "public" ? `<span class="badge neutral">${escapeHtml(t.visibility)}</span>` : "",
    ].join("");
    const tags = t.tags.slice(0, 4).map((tag) => `<a class="tag" href="?tag=${encodeURIComponent(tag)}">#${escapeHtml(tag)}</a>`).join(" ");
    const description = t.description.length > 160 ? t.description.slice(0, 159) + "…" : t.description;
    return `<article class="tpl-card${t.featured ? " featured" : ""}">
      <header><h3><a href="${encodeURIComponent(t.slug)}/">${escapeHtml(t.name)}</a></h3><div class="tpl-badges">${badges}</div></header>
      <p class="tpl-description">${escapeHtml(description)}</p>
      <div class="tpl-meta"><span class="stars" aria-label="Rated ${t.rating_average.toFixed(1)} out of 5 by ${t.rating_count}"><span class="stars-fill" data-quarters="${quarters}">★★★★★</span>★★★★★</span>
        <span class="muted small">(${t.rating_count})</span>
        <span class="muted small" title="Workflows made from it">▶ ${t.usage_count} use${t.usage_count === 1 ? "" : "s"}</span>
        <span class="muted small">v${escapeHtml(t.latest_version)}</span></div>
      <footer class="small">${t.category ? `<a class="badge neutral" href="?category=${encodeURIComponent(t.category)}">${escapeHtml(t.category)}</a>` : ""} ${tags}
        <span class="muted publisher">by ${escapeHtml(t.publisher.name)}</span></footer></article>`;
  }

  function facetList(name, items, params) {
    if (!items.length) return '<li class="muted small">None</li>';
    return items.map((item) => {
      const next = new URLSearchParams(params);
      const active = params.get(name) === item.value;
      if (active) next.delete(name); else next.set(name, item.value);
      next.delete("cursor");
      const label = name === "tag" ? "#" + item.value : item.value;
      return `<li><a href="?${next}"${active ? ' aria-current="true" class="active"' : ""}>${escapeHtml(label)}</a> <span class="count">${item.count}</span></li>`;
    }).join("");
  }

  function render(body, params) {
    const query = params.get("q") || "";
    const landing = document.querySelector(".tpl-landing");
    if (landing) landing.hidden = [...params.keys()].some((key) => key !== "sort");
    if (body.results.length) {
      const note = body.typo_fallback ? `<p class="muted small" data-typo-note>No exact match for “${escapeHtml(query)}”; showing results for “${escapeHtml(body.corrected_query || "")}”.</p>` : "";
      const more = body.next ? `<div class="pager"><a class="button small" href="?${new URLSearchParams([...params, ["cursor", body.next]])}">More templates</a></div>` : "";
      results.innerHTML = `${note}<div class="tpl-grid">${body.results.map(card).join("")}</div>${more}`;
    } else {
      results.innerHTML = `<div class="empty"><h2>No template matches</h2><p>Nothing matches “${escapeHtml(query)}”. Try fewer words, or <a href="?">browse everything</a>.</p></div>`;
    }
    const exact = body.facets_exact ? "" : '<p class="muted small">Counts cover a sample of the matches, not all of them.</p>';
    const clear = [...params.keys()].some((key) => key !== "sort") ? '<p><a href="?" class="small">Clear search and filters</a></p>' : "";
    facets.innerHTML = `${clear}<h2>Category</h2><ul>${facetList("category", body.facets.category, params)}</ul>` +
      `<h2>Tag</h2><ul>${facetList("tag", body.facets.tag, params)}</ul>${exact}`;
  }

  async function search() {
    const params = pageParams();
    const api = new URLSearchParams(params);  // the page's parameters are the API's
    api.set("limit", "24");
    const ticket = ++latest;
    document.body.classList.add("tpl-loading");
    try {
      const response = await fetch(`/api/v1/templates/?${api}`, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (!response.ok || ticket !== latest) return;
      render(await response.json(), params);
      history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
    } catch (error) {
      // Network trouble: the plain form still works.
    } finally {
      if (ticket === latest) document.body.classList.remove("tpl-loading");
    }
  }

  // On a phone the facets sit behind a "Filters" button, so the first card is on the first screen.
  const filtersToggle = document.querySelector("[data-filters-toggle]");
  if (filtersToggle) {
    filtersToggle.addEventListener("click", () => {
      const open = filtersToggle.getAttribute("aria-expanded") !== "true";
      filtersToggle.setAttribute("aria-expanded", open ? "true" : "false");
      facets.classList.toggle("open", open);
    });
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 180); });
  form.addEventListener("change", (event) => { if (event.target !== input) search(); });
  form.addEventListener("submit", (event) => { event.preventDefault(); clearTimeout(timer); search(); });
})();
