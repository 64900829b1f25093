/* Tandem pages: draw Plotly figures, keep "computed … ago" fresh, follow a recompute job,
   share filtered views. No framework; plotly.js comes from our own static files. */
(function () {
  "use strict";

  var CONFIG = { displayModeBar: false, responsive: true };

  function drawCharts(root) {
    if (!window.Plotly) return;
    (root || document).querySelectorAll("[data-figure]:not([data-drawn])").forEach(function (el) {
      try {
        var figure = JSON.parse(el.getAttribute("data-figure"));
        el.setAttribute("data-drawn", "");
        window.Plotly.newPlot(el, figure.data, figure.layout, CONFIG);
      } catch (err) {
        el.textContent = "This chart could not be drawn; the data table below has its numbers.";
      }
    });
  }
  window.tandemDrawCharts = drawCharts;

  function ago(seconds) {
    if (seconds < 60) return Math.max(0, Math.round(seconds)) + " s ago";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min ago";
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h ago";
    return Math.floor(hours / 24) + " d ago";
  }

  function tickFreshness() {
    document.querySelectorAll("[data-freshness]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("data-freshness"));
      if (isNaN(at)) return;
      var seconds = (Date.now() - at) / 1000;
      var label = el.querySelector("[data-ago]");
      if (label) label.textContent = ago(seconds);
      el.classList.toggle("is-stale", seconds > 6 * 3600);
    });
  }

  /* Shared links stay short: empty fields and untouched default dates are not sent, so a
     link to "the last 12 months" keeps rolling. */
  function cleanQuery(form) {
    form.querySelectorAll("[data-auto]").forEach(function (field) {
      field.addEventListener("input", function () { field.removeAttribute("data-auto"); });
    });
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) {
        if (!field.value || field.hasAttribute("data-auto")) field.disabled = true;
      });
    });
  }

  function copyLink(button) {
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = "Link copied";
        setTimeout(function () { button.textContent = "Copy link"; }, 2000);
      };
      if (navigator.clipboard) navigator.clipboard.writeText(location.href).then(done, done);
    });
  }

  function followJob(box) {
    var url = box.getAttribute("data-job-url");
    var status = box.querySelector(".job-status");
    var bar = box.querySelector("progress");
    var units = box.querySelector("[data-job-units]");
    function finish(ok) {
      status.textContent = ok ? "Recompute done — refreshing…" : "Recompute stopped — reloading…";
      if (ok) {
        var params = new URLSearchParams(location.search);
        params.delete("job");
        var query = params.toString();
        setTimeout(function () { location.replace(location.pathname + (query ? "?" + query : "")); }, 700);
      } else {
        // The page says why (failed, or dead) and offers the retry; it follows no such job.
        setTimeout(function () { location.reload(); }, 700);
      }
    }
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (job) {
          bar.value = job.progress;
          units.textContent = (job.done_units + job.failed_units) + " of " + job.total_units + " parts";
          if (job.status === "done") return finish(true);
          if (job.status === "failed" || job.status === "dead") return finish(false);
          status.textContent = "Recomputing… " + Math.round(job.progress * 100) + " %";
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  }

  function init() {
    drawCharts(document);
    tickFreshness();
    setInterval(tickFreshness, 10000);
    document.querySelectorAll("form[data-clean-query]").forEach(cleanQuery);
    document.querySelectorAll("[data-copy-link]").forEach(copyLink);
    document.querySelectorAll("[data-job]").forEach(followJob);
    document.querySelectorAll("form[data-recompute]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("button");
        button.disabled = true;
        button.textContent = "Starting…";
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
