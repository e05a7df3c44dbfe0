/* The filing form in three steps (issue #16 item 5): 1 where → 2 what → 3 confirm.
 *
 * On a phone (narrow screen) one step shows at a time, with "next" and "back"; "next" checks the step
 * (a place is set; something is said). On a wider screen all three show, one under the other. Without
 * script everything shows and the server checks the form as before. A form that came back with an error
 * opens at the step holding it.
 *
 * Step 2 lists open demands already reported near the chosen point (/demands/nearby/): "me too" adds the
 * resident to one (/demands/nearby/<number>/me-too/) instead of filing it again.
 */
(function () {
  "use strict";

  var NARROW = window.matchMedia ? window.matchMedia("(max-width: 760px)") : { matches: false };

  function start() {
    var form = document.querySelector("form.demand-form");
    if (!form) return;
    var steps = Array.prototype.slice.call(form.querySelectorAll(".step[data-step]"));
    if (steps.length !== 3) return;
    var bar = form.querySelector(".step-bar");
    var current = 1;

    function hasPlace() {
      var lon = form.elements.longitude, lat = form.elements.latitude, grid = form.elements.grid;
      return (lon && lon.value && lat && lat.value) || (grid && grid.value);
    }
    function hasText() {
      return form.elements.text && form.elements.text.value.trim().length > 0;
    }

    function show(n, focus) {
      current = n;
      var stepping = NARROW.matches;
      form.classList.toggle("stepping", stepping);
      steps.forEach(function (step) {
        var on = Number(step.dataset.step) === n;
        step.hidden = stepping && !on;
        step.classList.toggle("current", on);
      });
      if (bar) {
        Array.prototype.forEach.call(bar.querySelectorAll("li"), function (li) {
          var k = Number(li.dataset.for);
          li.classList.toggle("current", k === n);
          li.classList.toggle("done", k < n);
          if (k === n) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
        });
      }
      if (stepping && focus) {
        var heading = steps[n - 1].querySelector("h2");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
        window.scrollTo(0, form.offsetTop - 8);
      }
      if (n === 1) window.dispatchEvent(new Event("resize")); // the map sizes itself when it shows again
      if (n === 2) nearby();
      if (n === 3 && stepping) summarise();
    }

    // Step 3 on a phone: what was said in the steps before, to check before sending.
    function summarise() {
      var box = document.getElementById("step-summary");
      if (!box) return;
      var located = document.getElementById("located");
      var grid = form.elements.grid && form.elements.grid.selectedOptions && form.elements.grid.selectedOptions[0];
      var address = form.elements.address ? form.elements.address.value.trim() : "";
      var where = (located && located.classList.contains("inside") && located.textContent) ||
                  (grid && grid.value ? grid.textContent : "");
      box.querySelector("[data-summary=where]").textContent = [address, where].filter(Boolean).join(" · ");
      var text = form.elements.text ? form.elements.text.value.trim() : "";
      box.querySelector("[data-summary=what]").textContent = text.length > 80 ? text.slice(0, 80) + "…" : text;
      box.hidden = false;
    }

    function refuse(step, message) {
      var note = step.querySelector(".step-missing");
      if (!note) {
        note = document.createElement("p");
        note.className = "error step-missing";
        note.setAttribute("role", "alert");
        step.querySelector(".step-nav").before(note);
      }
      note.textContent = message;
    }

    steps.forEach(function (step) {
      var n = Number(step.dataset.step);
      var next = step.querySelector(".step-next"), back = step.querySelector(".step-back");
      if (next) next.addEventListener("click", function () {
        var ok = n === 1 ? hasPlace() : n === 2 ? hasText() : true;
        if (!ok) { refuse(step, next.dataset.textMissing); return; }
        var note = step.querySelector(".step-missing");
        if (note) note.remove();
        show(n + 1, true);
      });
      if (back) back.addEventListener("click", function () { show(n - 1, true); });
    });
    if (NARROW.addEventListener) NARROW.addEventListener("change", function () { show(current, false); });

    // "Me too": open demands near the point.
    var box = document.getElementById("nearby");
    var shownFor = "";
    function nearby() {
      var lon = form.elements.longitude && form.elements.longitude.value;
      var lat = form.elements.latitude && form.elements.latitude.value;
      if (!box || !lon || !lat || shownFor === lon + "," + lat) return;
      shownFor = lon + "," + lat;
      fetch(box.dataset.url + "?longitude=" + encodeURIComponent(lon) + "&latitude=" + encodeURIComponent(lat),
            { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (answer) { render(answer.demands || []); })
        .catch(function () { box.hidden = true; });
    }
    function render(found) {
      var list = box.querySelector(".nearby-list");
      list.textContent = "";
      box.hidden = found.length === 0;
      found.forEach(function (d) {
        var li = document.createElement("li");
        li.className = "nearby-item";
        var head = document.createElement("p");
        var what = document.createElement("b");
        what.textContent = d.category || "";
        head.appendChild(what);
        head.appendChild(document.createTextNode(" · " + d.state + " · " + (d.metres < 20 ? box.dataset.textHere : box.dataset.textAway.replace("{m}", d.metres))));
        var text = document.createElement("p");
        text.className = "nearby-text";
        text.textContent = d.text;
        var foot = document.createElement("p");
        foot.className = "nearby-foot";
        var count = document.createElement("span");
        count.className = "muted small";
        count.textContent = d.supporters ? box.dataset.textSupporters.replace("{n}", d.supporters + 1) : "";
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary me-too";
        button.textContent = box.dataset.textMeToo;
        button.addEventListener("click", function () { meToo(d.number, button, count); });
        foot.appendChild(button);
        foot.appendChild(document.createTextNode(" "));
        foot.appendChild(count);
        li.appendChild(head);
        li.appendChild(text);
        li.appendChild(foot);
        list.appendChild(li);
      });
    }
    function meToo(number, button, count) {
      var token = form.querySelector("input[name=csrfmiddlewaretoken]");
      button.disabled = true;
      fetch(box.dataset.meTooUrl.replace("NUMBER", encodeURIComponent(number)), {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" }
      }).then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      }).then(function (result) {
        count.textContent = result.answer.message || "";
        count.className = result.ok ? "notice ok small" : "error small";
        if (!result.ok) button.disabled = false;
      }).catch(function () { button.disabled = false; });
    }
    form.addEventListener("gongzhi:point", function () { if (!NARROW.matches) nearby(); });

    // Back from the server with an error: open the step that holds it.
    var first = form.querySelector(".step .error, .step [aria-invalid=true], .step .notice.ok");
    var start = 1;
    if (first) start = Number(first.closest(".step").dataset.step);
    else if (form.querySelector(".notice.bad")) start = hasPlace() ? (hasText() ? 3 : 2) : 1;
    show(start, false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
