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

/* A report being written is kept in this browser (localStorage) until it is sent, so a lost connection or
 * a closed tab loses nothing: the text, the category, the place and the contact come back when the form
 * is opened again. Photos are not kept (they stay on the phone anyway). The page that confirms a filing
 * (data-clear-draft) forgets the draft. */
(function () {
  "use strict";
  var KEY = "gongzhi-demand-draft";
  var FIELDS = ["text", "category", "address", "contact_name", "contact_phone", "longitude", "latitude", "grid"];

  function start() {
    if (document.querySelector("[data-clear-draft]")) {
      try { localStorage.removeItem(KEY); } catch (e) { /* private mode: nothing kept */ }
      return;
    }
    var form = document.querySelector("form.demand-form");
    if (!form || !window.localStorage) return;
    var kept = null;
    try { kept = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { kept = null; }
    var empty = !form.elements.text || !form.elements.text.value;
    if (kept && empty) {
      FIELDS.forEach(function (name) {
        var field = form.elements[name];
        if (field && kept[name] !== undefined && kept[name] !== "") field.value = kept[name];
      });
      form.dataset.draftRestored = "true";
      var note = document.getElementById("draft-restored");
      if (note) note.hidden = false;
    }
    function save() {
      var draft = {};
      FIELDS.forEach(function (name) { var field = form.elements[name]; if (field) draft[name] = field.value; });
      try { localStorage.setItem(KEY, JSON.stringify(draft)); } catch (e) { /* full or private: not kept */ }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
