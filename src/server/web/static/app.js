// jcrpack serve: the little the page does with a script. Every page works without
// it (forms post and pages reload); with it, a running backup's progress bar moves
// and the page reloads itself when the job ends.
"use strict";
(function () {
  function follow(el) {
    var id = el.getAttribute("data-job");
    var bar = el.querySelector("progress");
    var text = el.querySelector("[data-job-text]");
    function tick() {
      fetch("/api/backups/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (j) {
          if (j.state !== "running") { window.location.reload(); return; }
          if (bar) {
            if (j.total) { bar.max = j.total; bar.value = Math.min(j.done, j.total); }
            else { bar.removeAttribute("value"); }
          }
          if (text) {
            text.textContent = (j.phase || "starting") + (j.total ? ": " + Math.floor(100 * j.done / j.total) + "%" : "")
              + (j.cancelRequested ? " (cancelling)" : "");
          }
          setTimeout(tick, 400);
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var jobs = document.querySelectorAll("[data-job]");
    for (var i = 0; i < jobs.length; i++) { follow(jobs[i]); }
  });
})();
