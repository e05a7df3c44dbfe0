// Behaviour every page shares, kept in a static file because the Content-Security-Policy forbids
// inline script (and htmx's hx-on, which needs eval).
"use strict";

// htmx does not swap error answers. Inside an element marked data-swap-bad-request a 400 (or 429: too
// many in an hour) answer is swapped in like a success: it is the form again, with the reason to show.
document.addEventListener("htmx:beforeSwap", function (event) {
  var source = event.target;
  var status = event.detail.xhr.status;
  if ((status === 400 || status === 429) && source && source.closest && source.closest("[data-swap-bad-request]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
