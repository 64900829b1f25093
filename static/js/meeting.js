/* The meeting view: one section on screen at a time; arrow keys and dots move between them;
   each section refreshes its numbers from its own partial every minute. */
(function () {
  "use strict";

  var root = document.querySelector("[data-meeting]");
  if (!root) return;
  var slides = Array.prototype.slice.call(root.querySelectorAll("[data-section]"));
  var dots = Array.prototype.slice.call(root.querySelectorAll("[data-goto]"));
  var current = 0;

  function show(index, focus) {
    current = Math.max(0, Math.min(slides.length - 1, index));
    slides.forEach(function (slide, i) { slide.classList.toggle("is-active", i === current); });
    dots.forEach(function (dot, i) {
      if (i === current) dot.setAttribute("aria-current", "true");
      else dot.removeAttribute("aria-current");
    });
    var slug = slides[current].getAttribute("data-section");
    if (focus || location.hash) {
      if (location.hash !== "#" + slug) history.replaceState(null, "", "#" + slug);
    }
    if (focus) slides[current].focus({ preventScroll: true });
  }

  function indexOf(slug) {
    for (var i = 0; i < slides.length; i++) if (slides[i].getAttribute("data-section") === slug) return i;
    return -1;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var key = event.key;
    if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown" || key === " ") {
      show(current + 1, true); event.preventDefault();
    } else if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp") {
      show(current - 1, true); event.preventDefault();
    } else if (key === "Home") { show(0, true); event.preventDefault(); }
    else if (key === "End") { show(slides.length - 1, true); event.preventDefault(); }
    else if (key === "f" || key === "F") { fullScreen(); }
  });

  dots.forEach(function (dot) {
    dot.addEventListener("click", function () { show(indexOf(dot.getAttribute("data-goto")), false); });
  });

  function fullScreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen();
  }
  var present = root.querySelector("[data-present]");
  if (present) present.addEventListener("click", fullScreen);

  var stamp = root.querySelector("[data-refreshed]");
  function refresh() {
    var pending = slides.map(function (slide) {
      return fetch(slide.getAttribute("data-url"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) { slide.querySelector("[data-section-body]").innerHTML = html; });
    });
    Promise.all(pending).then(function () {
      var now = new Date();
      if (stamp) stamp.textContent = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
      root.setAttribute("data-refreshed-at", now.toISOString());
    }, function () { /* keep the numbers on screen; try again next time */ });
  }
  var seconds = parseInt(root.getAttribute("data-refresh-seconds"), 10) || 60;
  setInterval(refresh, seconds * 1000);
  window.tandemMeetingRefresh = refresh;

  var start = indexOf(location.hash.replace("#", ""));
  show(start >= 0 ? start : 0, false);
  if (start >= 0) window.scrollTo(0, 0);
})();
