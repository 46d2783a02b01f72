// Optional conveniences; every page works without this file.
(function () {
  "use strict";

  // Leave empty filters out of the URL (the server treats an empty value as "not given" anyway).
  document.querySelectorAll("form.filters").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (control) {
        if (control.name && control.value === "" && control.type !== "checkbox") {
          control.disabled = true;
        }
      });
      // Re-enable after the browser has read the form, so "back" shows the controls usable.
      window.setTimeout(function () {
        form.querySelectorAll(":disabled").forEach(function (control) { control.disabled = false; });
      }, 0);
    });
  });

  // Copy buttons: hidden until this script shows them, so no dead button without JavaScript.
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentElement.querySelector(".copy-status");
    if (!target) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.textContent;
      var done = function () { if (status) { status.textContent = "Copied."; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(target); });
      } else {
        selectText(target);
        try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the text stays selected */ }
      }
    });
  });

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
