// The front desk's few touches of script; every action also works as a plain link or form.
// - [data-print]: print the page (the print stylesheet keeps only the ticket). Shown only with script.
// - [data-dismiss]: take the ticket card or alarm away instead of reloading the desk.
// - After a ticket is issued with htmx: clear the per-resident choices and show the new card.
(function () {
  "use strict";
  document.documentElement.classList.add("can-print");

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
      return;
    }
    var dismiss = target.closest("[data-dismiss]");
    var holder = dismiss && dismiss.closest("#desk-new-ticket, #alarm");
    if (holder) {
      event.preventDefault();
      holder.replaceChildren();
      var first = document.querySelector(".desk-service-button:not([disabled])");
      if (first) first.focus();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "desk-new-ticket") return;
    var form = document.getElementById("desk-issue");
    // The language and "needs help" belong to the resident just served, not to the next one.
    if (form && event.detail.xhr && event.detail.xhr.status < 300) form.reset();
    target.scrollIntoView({ block: "nearest" });
  });
})();
