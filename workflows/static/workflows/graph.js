// Pan and zoom for the workflow graph SVG, node details on click (or Enter on a focused node), the
// critical-path toggle, and linking validation issues to the nodes and edges they name. The page
// works without it: each node is a link to its details (shown with :target).
(function () {
  "use strict";

  var DRAG_THRESHOLD = 4;
  var READABLE_SCALE = 1;  // node text is 12-13px in graph units: shown at least that size on screen

  function initGraph(frame) {
    if (frame.dataset.ready) return;
    frame.dataset.ready = "1";
    frame.classList.add("js");
    var svg = frame.querySelector("svg.graph");
    if (!svg) return;
    var full = { x: 0, y: 0, w: +svg.dataset.width, h: +svg.dataset.height };
    var view = Object.assign({}, full);
    var maxHeight = 640;  // workflows.css's cap, which is all a page without this script has
    // A small graph is not drawn larger than its own size. Set through the style object: the
    // Content-Security-Policy refuses style="" in the markup, not this.
    svg.style.maxHeight = Math.min(full.h, maxHeight) + "px";

    function apply() {
      svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].map(Math.round).join(" "));
    }
    function zoom(factor, cx, cy) {
      var w = Math.min(Math.max(view.w * factor, 120), full.w * 4);
      var h = w * (view.h / view.w);
      cx = cx === undefined ? view.x + view.w / 2 : cx;
      cy = cy === undefined ? view.y + view.h / 2 : cy;
      view.x = cx - (cx - view.x) * (w / view.w);
      view.y = cy - (cy - view.y) * (h / view.h);
      view.w = w; view.h = h;
      apply();
    }
    function toSvg(event) {
      var box = svg.getBoundingClientRect();
      var scale = Math.max(view.w / box.width, view.h / box.height);
      return { x: view.x + (event.clientX - box.left) * scale, y: view.y + (event.clientY - box.top) * scale, scale: scale };
    }
    // A graph that would shrink below a readable size opens at full size from its left edge
    // (pan or zoom out to see the rest) instead of shrinking many nodes to dots.
    var box = svg.getBoundingClientRect();
    if (box.width && Math.min(box.width / full.w, maxHeight / full.h) < READABLE_SCALE) {
      var height = Math.min(full.h, maxHeight);
      view.w = box.width / READABLE_SCALE;
      view.h = height / READABLE_SCALE;
      view.y = Math.max(0, full.h / 2 - view.h / 2);
      svg.style.height = height + "px";
      svg.style.maxHeight = "none";
      apply();
    }
    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var point = toSvg(event);
      zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, point.x, point.y);
    }, { passive: false });
    var press = null;
    var dragged = false;
    svg.addEventListener("pointerdown", function (event) {
      press = { x: event.clientX, y: event.clientY, view: Object.assign({}, view), scale: toSvg(event).scale, id: event.pointerId, moving: false };
      dragged = false;
    });
    svg.addEventListener("pointermove", function (event) {
      if (!press) return;
      if (!press.moving) {
        if (Math.hypot(event.clientX - press.x, event.clientY - press.y) < DRAG_THRESHOLD) return;
        press.moving = true;
        svg.setPointerCapture(press.id);
        svg.classList.add("dragging");
      }
      view.x = press.view.x - (event.clientX - press.x) * press.scale;
      view.y = press.view.y - (event.clientY - press.y) * press.scale;
      apply();
    });
    function stop() {
      if (press && press.moving) dragged = true;
      press = null;
      svg.classList.remove("dragging");
    }
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    frame.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.addEventListener("click", function () {
        var kind = button.dataset.zoom;
        if (kind === "fit") { view = Object.assign({}, full); apply(); }
        else zoom(kind === "in" ? 1 / 1.3 : 1.3);
      });
    });
    var toggle = frame.querySelector("[data-toggle-critical]");
    if (toggle) {
      toggle.addEventListener("click", function (event) {
        event.preventDefault();
        var on = frame.classList.toggle("show-critical");
        toggle.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }
    // Node details: a click (not the end of a pan) or Enter on a node link opens its panel.
    function showDetail(id) {
      frame.querySelectorAll(".node-detail.open").forEach(function (panel) { panel.classList.remove("open"); });
      frame.querySelectorAll(".node-link.open").forEach(function (link) { link.classList.remove("open"); });
      if (!id) return;
      var panel = frame.querySelector('[data-node-detail="' + CSS.escape(id) + '"]');
      var link = frame.querySelector('[data-node-link="' + CSS.escape(id) + '"]');
      if (panel) { panel.classList.add("open"); panel.focus({ preventScroll: true }); panel.scrollIntoView({ block: "nearest" }); }
      if (link) link.classList.add("open");
    }
    frame.querySelectorAll("[data-node-link]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        if (dragged) { dragged = false; return; }
        showDetail(link.dataset.nodeLink);
      });
    });
    frame.querySelectorAll("[data-close-detail]").forEach(function (close) {
      close.addEventListener("click", function (event) {
        event.preventDefault();
        var id = close.closest("[data-node-detail]").dataset.nodeDetail;
        showDetail(null);
        var link = frame.querySelector('[data-node-link="' + CSS.escape(id) + '"]');
        if (link) link.focus();
      });
    });
  }

  function focusTarget(root, item, on) {
    var selector = item.dataset.edgeId ? '[data-edge-id="' + CSS.escape(item.dataset.edgeId) + '"]'
                                       : '[data-node-id="' + CSS.escape(item.dataset.nodeId || "") + '"]';
    root.querySelectorAll("svg " + selector).forEach(function (element) {
      element.classList.toggle("focus", on);
    });
  }

  function initIssues(root) {
    root.querySelectorAll(".issue[data-node-id], .issue[data-edge-id]").forEach(function (item) {
      if (item.dataset.ready) return;
      item.dataset.ready = "1";
      item.addEventListener("mouseenter", function () { focusTarget(root, item, true); });
      item.addEventListener("mouseleave", function () { focusTarget(root, item, false); });
    });
  }

  function init(root) {
    root = root || document;
    root.querySelectorAll("[data-graph]").forEach(initGraph);
    initIssues(root);
  }

  window.SymphonyGraph = { init: init };
  document.documentElement.classList.add("has-js");
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
})();
