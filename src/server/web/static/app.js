// jcrpack serve: the little the page does with a script. Every page works without
// it (forms post and pages reload); with it, a running backup's progress bar moves
// and the page reloads itself when the job ends, and a package's install or dry run
// streams its log into the page while it runs (/web/packages/log, one JSON object
// a line, read as it arrives).
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
  // An install's or dry run's log, streamed: the form posts to /web/packages/log
  // and each line of the answer is shown as it arrives.
  function liveLog(form) {
    form.addEventListener("submit", function (ev) {
      var section = document.getElementById("live-log");
      if (!window.fetch || !window.TextDecoder || !section) { return; } // the plain form posts
      ev.preventDefault();
      var button = ev.submitter;
      var body = new URLSearchParams(new FormData(form));
      if (button && button.name) { body.append(button.name, button.value); }
      var log = section.querySelector("pre");
      var status = section.querySelector("[data-log-status]");
      var buttons = document.querySelectorAll("form[data-live-log] button");
      for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
      section.hidden = false;
      section.removeAttribute("data-done");
      log.textContent = "";
      status.className = "";
      status.setAttribute("role", "status");
      status.textContent = (button && button.value === "dryrun" ? "Dry run of " : "Installing ")
        + form.querySelector("input[name=path]").value + " …";
      section.setAttribute("aria-busy", "true");
      var rest = "";
      var finished = false;
      function show(obj) {
        if (obj.done) {
          finished = true;
          status.className = "flash " + (obj.success ? "info" : "error");
          if (!obj.success) { status.setAttribute("role", "alert"); }
          status.textContent = obj.message;
          section.setAttribute("data-done", obj.success ? "ok" : "failed");
          var cell = form.closest("tr") && form.closest("tr").querySelector("[data-installed]");
          if (cell && typeof obj.installed === "string") { cell.textContent = obj.installed; }
        } else if (typeof obj.line === "string") {
          log.appendChild(document.createTextNode(obj.line + "\n"));
          log.scrollTop = log.scrollHeight;
          section.setAttribute("data-lines", String((+section.getAttribute("data-lines") || 0) + 1));
        }
      }
      function lines(text) {
        rest += text;
        var parts = rest.split("\n");
        rest = parts.pop();
        for (var i = 0; i < parts.length; i++) { if (parts[i]) { show(JSON.parse(parts[i])); } }
      }
      function end(err) {
        section.removeAttribute("aria-busy");
        for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = false; }
        if (!finished) {
          status.className = "flash error";
          status.setAttribute("role", "alert");
          status.textContent = "The log of " + form.querySelector("input[name=path]").value
            + " ended early" + (err ? " (" + err.message + ")" : "") + ": reload the page to see the package's state.";
          section.setAttribute("data-done", "failed");
        }
      }
      section.setAttribute("data-lines", "0");
      section.scrollIntoView({ block: "nearest" });
      fetch("/web/packages/log", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
      }).then(function (r) {
        if (!r.ok || !r.body) { throw new Error("HTTP " + r.status); }
        var reader = r.body.getReader();
        var dec = new TextDecoder();
        function pump() {
          return reader.read().then(function (c) {
            if (c.done) { lines(dec.decode()); if (rest) { show(JSON.parse(rest)); } end(); return; }
            lines(dec.decode(c.value, { stream: true }));
            return pump();
          });
        }
        return pump();
      }).catch(end);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var jobs = document.querySelectorAll("[data-job]");
    for (var i = 0; i < jobs.length; i++) { follow(jobs[i]); }
    var forms = document.querySelectorAll("form[data-live-log]");
    for (var j = 0; j < forms.length; j++) { liveLog(forms[j]); }
  });
})();
