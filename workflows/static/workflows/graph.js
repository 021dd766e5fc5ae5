// Pan and zoom for the workflow graph SVG, the critical-path toggle, and linking
// validation issues to the nodes and edges they name. The page works without it.
(function () {
  "use strict";

  function initGraph(frame) {
    if (frame.dataset.ready) return;
    frame.dataset.ready = "1";
    frame.classList.add("js");
    var svg = frame.querySelector("svg.graph");
    if (!svg) return;
    var full = { x: 0, y: 0, w: +svg.dataset.width, h: +svg.dataset.height };
    var view = Object.assign({}, full);

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
    // Large graphs open at a readable zoom (left edge) instead of shrinking 200 nodes to dots.
    var box = svg.getBoundingClientRect();
    if (box.width && full.w / box.width > 2.5) {
      view.w = box.width * 1.6;
      view.h = Math.min(full.h, 640 * 1.6);
      view.y = Math.max(0, full.h / 2 - view.h / 2);
      svg.style.height = "640px";
      apply();
    }
    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var point = toSvg(event);
      zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, point.x, point.y);
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (event) {
      drag = { x: event.clientX, y: event.clientY, view: Object.assign({}, view), scale: toSvg(event).scale };
      svg.setPointerCapture(event.pointerId);
      svg.classList.add("dragging");
    });
    svg.addEventListener("pointermove", function (event) {
      if (!drag) return;
      view.x = drag.view.x - (event.clientX - drag.x) * drag.scale;
      view.y = drag.view.y - (event.clientY - drag.y) * drag.scale;
      apply();
    });
    function stop() { drag = null; svg.classList.remove("dragging"); }
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
