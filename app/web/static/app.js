// Scopegate dashboard: the only script. Pages work without it; it adds
// (1) times in the viewer's own format (UTC stays in the title on hover) and
// (2) copy buttons for secrets shown once.
(function () {
  "use strict";

  function localizeTimes() {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return;
    }
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = fmt.format(d); }
    });
  }

  function copyText(input, status, button) {
    function done(ok) {
      status.textContent = ok ? "Copied to the clipboard." : "Copy failed: select the text and copy it yourself.";
      if (ok) { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 2000); }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
      return;
    }
    input.focus();
    input.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }

  function setUpCopyButtons() {
    var status = document.querySelector(".copied");
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) { return; }
      button.hidden = false;
      button.addEventListener("click", function () { copyText(input, status || button, button); });
    });
    // A click in a secret selects all of it, for people copying by hand.
    document.querySelectorAll(".secret input").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localizeTimes();
    setUpCopyButtons();
  });
})();
