/* demands pages: let htmx swap in the answers that explain a refusal.
 *
 * htmx leaves 4xx answers unswapped by default. An action refused by the rules (400 bad input, 403 not
 * allowed, 409 not in this state) comes back as the same card or page body with the reason in it, so swap
 * it like a success.
 */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 403 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
