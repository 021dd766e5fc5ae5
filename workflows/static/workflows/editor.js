// Live validation and graph preview for the workflow editor: after typing stops,
// POST the document to the validate API (with the CSRF header), then redraw the
// preview from the server. Without JavaScript the "Validate & preview" button does it.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) return;
  var textarea = document.getElementById("document");
  var status = document.getElementById("live-status");
  var preview = document.getElementById("graph-preview");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  var sequence = 0;

  function say(text, kind) {
    status.textContent = text;
    status.className = "small live-" + (kind || "muted");
  }

  function refresh() {
    var mine = ++sequence;
    var text = textarea.value;
    var document_;
    try { document_ = JSON.parse(text); }
    catch (error) { say("Not valid JSON: " + error.message, "bad"); return; }
    say("Validating…");
    fetch(form.dataset.validateUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json" },
      body: JSON.stringify(document_)
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (mine !== sequence) return;
      if (!answer.ok) { say(answer.body.error ? answer.body.error.message : "Could not validate.", "bad"); return; }
      var result = answer.body;
      if (result.valid) say("Valid" + (result.warnings.length ? " · " + result.warnings.length + " warning(s)" : ""), "ok");
      else say(result.errors.length + " error(s): " + result.errors[0].message, "bad");
      return fetch(form.dataset.previewUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token }, body: text
      }).then(function (response) { return response.text(); }).then(function (html) {
        if (mine !== sequence) return;
        preview.innerHTML = html;
        if (window.SymphonyGraph) window.SymphonyGraph.init(preview);
        updatePorts();
      });
    }).catch(function () { if (mine === sequence) say("Could not reach the server.", "bad"); });
  }

  // The "connect ports" selects follow the document as it is typed.
  function updatePorts() {
    var data = document.getElementById("preview-ports");
    if (!data) return;
    var choices = JSON.parse(data.textContent);
    [["source", choices.sources], ["target", choices.targets]].forEach(function (pair) {
      var select = document.getElementById(pair[0]);
      var kept = select.value;
      select.innerHTML = "";
      pair[1].forEach(function (choice) {
        var option = document.createElement("option");
        option.value = choice[0];
        option.textContent = choice[1];
        select.appendChild(option);
      });
      if (pair[1].some(function (choice) { return choice[0] === kept; })) select.value = kept;
    });
  }

  textarea.addEventListener("input", function () {
    clearTimeout(timer);
    say("Editing…");
    timer = setTimeout(refresh, 500);
  });
})();
