/* The rep's pages: a rejection reason that needs feedback ("Other") makes the feedback box
   required before the form is sent (the server refuses it either way). */
(function () {
  "use strict";

  function needsFeedback(select) {
    var option = select.options[select.selectedIndex];
    if (option && option.hasAttribute("data-requires-feedback")) return true;
    var codes = (select.getAttribute("data-feedback-required-for") || "").split(" ");
    return select.value !== "" && codes.indexOf(select.value) !== -1;
  }

  function follow(select) {
    var form = select.form;
    var box = form && form.querySelector("textarea[name=feedback]");
    if (!box) return;
    var required = needsFeedback(select);
    box.required = required;
    box.closest(".field").classList.toggle("is-required", required);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[name=reason]")) follow(target);
  });
  function followAll(root) {
    root.querySelectorAll("select[name=reason]").forEach(follow);
  }
  document.addEventListener("DOMContentLoaded", function () { followAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    var root = event.target.parentNode || document;  // the card swapped in, outerHTML
    followAll(root);
  });
})();
