/* deliberation pages: the opinion map's scatter plot, htmx answers that explain a refusal, the motion form's
 * method-dependent fields, and finding one's tracker in a published ballot list.
 *
 * The map reads #opinion-map-data (written by the page with json_script):
 *   {points: [{x, y, group: "A" | null}], groups: ["A", "B", …], texts: {group, ungrouped, participant}}
 * and draws one Plotly scatter trace per group (Plotly from the static plotly/plotly.min.js, no CDN). After a
 * vote htmx swaps in a fresh map section; it is drawn again when it settles.
 */
(function () {
  "use strict";

  // The same colours as .group-N .swatch in deliberation.css.
  var COLOURS = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#795548", "#5b6470",
                 "#ad1457", "#827717"];
  var UNGROUPED = "#b0b6bd";
  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  // A refusal (400 bad input, 403 not allowed, 409 conflict) comes back as the same card with its reason.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 403 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function drawMap() {
    var el = document.getElementById("opinion-plot");
    var source = document.getElementById("opinion-map-data");
    if (!el || !source || typeof Plotly === "undefined") return;
    var data = JSON.parse(source.textContent);
    var traces = [];
    var keys = data.groups.concat([null]);
    keys.forEach(function (group, index) {
      var points = data.points.filter(function (p) { return p.group === group; });
      if (!points.length) return;
      var name = group === null ? data.texts.ungrouped : data.texts.group + " " + group;
      traces.push({
        type: "scatter", mode: "markers", name: name,
        x: points.map(function (p) { return p.x; }), y: points.map(function (p) { return p.y; }),
        marker: { size: 9, opacity: 0.8, color: group === null ? UNGROUPED : COLOURS[index % COLOURS.length],
                  line: { width: 1, color: "#fff" } },
        hovertemplate: name + "<extra></extra>"
      });
    });
    var layout = {
      // Fixed axes: on a phone a swipe over the map scrolls the page.
      margin: { l: 4, r: 4, t: 4, b: 4 }, dragmode: false, hovermode: "closest",
      xaxis: { visible: false, fixedrange: true, zeroline: false },
      yaxis: { visible: false, fixedrange: true, zeroline: false },
      legend: { orientation: "h", y: -0.02, yanchor: "top" },
      paper_bgcolor: "#fff", plot_bgcolor: "#fbfbf9"
    };
    Plotly.newPlot(el, traces, layout, CONFIG).then(function () {
      el.setAttribute("data-ready", "true");
      el.setAttribute("data-points", String(data.points.length));
    });
  }

  // The motion form: options and seats only for a method with options.
  function motionForm() {
    document.querySelectorAll(".motion-form").forEach(function (form) {
      var method = form.querySelector("select[name=method]");
      var extra = form.querySelector(".method-options");
      if (!method || !extra) return;
      var update = function () { extra.hidden = method.value === "yes_no"; };
      method.addEventListener("change", update);
      update();
    });
  }

  // The published ballot list: mark the rows whose tracker starts with what was typed.
  function trackerSearch() {
    var input = document.getElementById("tracker-search");
    var out = document.getElementById("tracker-found");
    if (!input || !out) return;
    input.form.addEventListener("submit", function (event) { event.preventDefault(); });
    input.addEventListener("input", function () {
      var wanted = input.value.trim().toLowerCase();
      var found = 0;
      document.querySelectorAll(".ballot-list tr[data-tracker]").forEach(function (row) {
        var hit = wanted.length >= 4 && row.getAttribute("data-tracker").indexOf(wanted) === 0;
        row.classList.toggle("found", hit);
        if (hit) {
          if (!found) row.scrollIntoView({ block: "nearest" });
          found += 1;
        }
      });
      out.textContent = wanted.length < 4 ? "" : out.getAttribute(found ? "data-found" : "data-missing");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawMap();
    motionForm();
    trackerSearch();
  });
  // After htmx swapped in a fresh map section, its plot has not been drawn yet.
  document.addEventListener("htmx:afterSettle", function () {
    var el = document.getElementById("opinion-plot");
    if (el && !el.hasAttribute("data-ready")) {
      drawMap();
    }
  });
})();
