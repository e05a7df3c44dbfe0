/* "Send me a code" without leaving the page: the button posts the number to its data-send-code URL and
 * says what the server answered in its data-status element, then counts down until a new code may be
 * asked for. Without script the button submits its form, and the page comes back with the same notice.
 * Used by the sign-up and new-password pages and the guest report form. */
(function () {
  "use strict";

  function countdown(button, seconds) {
    var again = button.dataset.again || button.textContent;
    button.disabled = true;
    var left = seconds;
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = again;
        return;
      }
      button.textContent = again + " (" + left + ")";
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  // With script the button no longer submits its form, so that Enter in a field sends the form itself.
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-send-code]"), function (button) {
      button.type = "button";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-send-code]");
    if (!button) return;
    var form = button.form || button.closest("form");
    var phone = document.querySelector(button.dataset.phone);
    var status = document.querySelector(button.dataset.status);
    var token = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!phone || !status || !token || !window.fetch) return;  // the form's own submit does it
    event.preventDefault();
    if (!phone.value.trim()) {
      status.className = "error";
      status.textContent = phone.dataset.missing || "";
      phone.focus();
      return;
    }
    var body = new URLSearchParams();
    body.set("phone", phone.value);
    body.set("purpose", button.dataset.purpose);
    button.disabled = true;
    fetch(button.dataset.sendCode, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": token.value, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      status.className = result.ok ? "notice ok" : "error";
      status.setAttribute("role", result.ok ? "status" : "alert");
      status.textContent = result.answer.message || "";
      if (result.ok) {
        countdown(button, result.answer.resend_after || 60);
        var code = form.querySelector("[autocomplete=one-time-code]");
        if (code) code.focus();
      } else {
        button.disabled = false;
      }
    }).catch(function () {
      button.disabled = false;
      status.className = "error";
      status.textContent = button.dataset.offline || "";
    });
  });
})();
