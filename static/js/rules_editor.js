// The scoring-rules editor (lead definition drafts): add a row, dim a row ticked for removal.
// Without JavaScript the form still works: it offers a few blank rows and a Remove box per rule.
(function () {
  "use strict";
  function init(editor) {
    var rows = editor.querySelector("[data-rule-rows]");
    var template = editor.querySelector("template[data-rule-template]");
    var total = editor.querySelector("input[name$='-TOTAL_FORMS']");
    var add = editor.querySelector("[data-add-rule]");
    var hint = editor.querySelector(".no-js-hint");
    if (!rows || !template || !total || !add) return;
    add.hidden = false;
    if (hint) hint.hidden = true;
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      if (window.htmx) window.htmx.process(row);
      var first = row.querySelector("input[type=text]");
      if (first) first.focus();
    });
    rows.addEventListener("change", function (event) {
      var box = event.target;
      if (box && box.name && /-DELETE$/.test(box.name)) {
        box.closest("[data-rule-row]").classList.toggle("is-removed", box.checked);
      }
    });
  }
  document.querySelectorAll("[data-rules-editor]").forEach(init);
})();
