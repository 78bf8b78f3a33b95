// The customer's status page asks a small JSON endpoint how the order is doing and updates itself;
// it stops once the order is delivered or cancelled. An external file: the CSP allows no inline script.
(function () {
  "use strict";
  var panel = document.querySelector("[data-poll-url]");
  if (!panel || !window.fetch) { return; }
  var url = panel.getAttribute("data-poll-url");
  var seconds = Math.max(1, parseInt(panel.getAttribute("data-poll-seconds"), 10) || 15);
  var status = panel.querySelector("[data-status]");
  var steps = panel.querySelector(".steps");
  var note = panel.querySelector(".poll-note");
  var timer = null;

  function render(data) {
    if (data.status !== status.getAttribute("data-status")) {
      status.setAttribute("data-status", data.status);
      status.textContent = data.label;
      steps.textContent = "";
      data.steps.forEach(function (step) {
        var item = document.createElement("li");
        item.className = "step step-" + step.state;
        item.textContent = step.label;
        steps.appendChild(item);
      });
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) {
          render(data);
          if (data.final) {
            panel.removeAttribute("data-poll-url");
            if (note) { note.textContent = "This order is finished."; }
            return;  // delivered or cancelled: nothing will change any more
          }
        }
        timer = window.setTimeout(poll, seconds * 1000);
      })
      .catch(function () { timer = window.setTimeout(poll, seconds * 2000); });  // offline: try again, slower
  }

  // A tab in the background does not need to poll; it catches up when shown again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { window.clearTimeout(timer); timer = null; }
    else if (timer === null && panel.hasAttribute("data-poll-url")) { poll(); }
  });
  timer = window.setTimeout(poll, seconds * 1000);
}());
