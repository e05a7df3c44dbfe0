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

// Any other htmx request refused for going too fast (429, a rate limit): say why at the top of the page,
// with the reason the server's error page gives.
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  var main = document.querySelector("main");
  if (xhr.status !== 429 || !main) return;
  var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
  var reason = page.querySelector(".error-page .reason");
  var notice = document.getElementById("rate-limited") || document.createElement("p");
  notice.id = "rate-limited";
  notice.className = "error";
  notice.setAttribute("role", "alert");
  notice.textContent = reason ? reason.textContent : xhr.statusText;
  main.insertBefore(notice, main.firstChild);
});

// Installable: the service worker keeps the app shell for use without a connection (web/sw.js).
if ("serviceWorker" in navigator && document.body && document.body.dataset.serviceWorker) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register(document.body.dataset.serviceWorker, { scope: "/" }).catch(function () {});
  });
}

// A select marked data-autosubmit sends its form when changed (the post switch in the top bar); the form's own
// button stays for browsers without script.
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field && field.matches && field.matches("select[data-autosubmit]") && field.form) field.form.submit();
});
