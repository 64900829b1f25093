// The top bar keeps every section one click away at any width: the links that do not fit move,
// in order, into a "More" menu at the end of the bar (and back when the window widens). Without
// JavaScript the bar scrolls sideways instead. On a phone the links wrap (tandem.css), so none
// moves.
(function () {
  var nav = document.querySelector(".nav");
  var more = document.querySelector(".nav-more");
  if (!nav || !more) return;
  var menu = more.querySelector(".nav-more-menu");
  var summary = more.querySelector("summary");
  var links = Array.prototype.slice.call(nav.children);

  function fit() {
    links.forEach(function (link) { nav.appendChild(link); });
    more.hidden = false; // measured with the menu's room taken
    while (nav.scrollWidth > nav.clientWidth + 1 && nav.children.length > 1) {
      menu.insertBefore(nav.lastElementChild, menu.firstChild);
    }
    more.hidden = menu.children.length === 0;
    if (more.hidden) more.open = false;
    summary.classList.toggle("is-current", !!menu.querySelector("[aria-current=page]"));
  }

  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; fit(); });
  });
  document.addEventListener("click", function (event) {
    if (more.open && !more.contains(event.target)) more.open = false;
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && more.open) { more.open = false; summary.focus(); }
  });
  fit();
})();
