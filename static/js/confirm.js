// Forms that delete something ask first: `<form data-confirm="Delete this idea?">`. Without
// JavaScript the form submits as it is (the pages have no inline handlers: the CSP forbids them).
document.addEventListener("submit", function (event) {
  var form = event.target.closest ? event.target.closest("form[data-confirm]") : null;
  if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
}, true);
