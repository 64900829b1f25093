// A page's "Print" button (`data-print`): hidden without JavaScript, where the browser's own
// print command does the same.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
