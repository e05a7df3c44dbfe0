/* The analysis cockpit's charts (Plotly from the static plotly/plotly.min.js; no CDN, no tiles).
 *
 * Reads #insight-data:
 *   {map: {grids: [{id, name, geometry, demands, open, overdue, resolution_rate, hot_spots}],
 *          measures: [{key, label, worse: "high"|"low", unit?}]},
 *    trend: {weeks: [iso dates], series: [{code, name, counts}]},
 *    confusion: {labels: [...], matrix: [[...]]} | null,   rows: true category, columns: predicted
 *    texts: {demands, week, predicted, true, noValue}}
 * The map draws each grid as a filled shape (as regionmap.js does), coloured by the measure chosen with the
 * radio buttons; switching redraws the map. A grid without a value (a rate with nothing rated) is grey.
 */
(function () {
  "use strict";

  var LABELLED_GRIDS = 40; // more grids than this: names and values on hover only
  var LINE_COLOURS = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5b6470"];
  var SCALES = { high: ["#fff5f0", "#b71c1c"], low: ["#b71c1c", "#e8f5e9"] }; // light = fine, red = look here
  var NO_VALUE = "#e6e6e6";
  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  var shapes = window.GongzhiShapes, path = shapes.path, centre = shapes.centre;

  function mix(from, to, t) {
    var a = parseInt(from.slice(1), 16), b = parseInt(to.slice(1), 16);
    var channel = function (shift) {
      var u = (a >> shift) & 255, v = (b >> shift) & 255;
      return Math.round(u + (v - u) * t);
    };
    return "rgb(" + channel(16) + "," + channel(8) + "," + channel(0) + ")";
  }

  function narrow(el) { return el.clientWidth < 600; }

  function drawMap(data) {
    var el = document.getElementById("insight-map");
    if (!el) return;
    var grids = data.map.grids;
    var shapes = grids.map(function (g) { return { grid: g, xy: path(g.geometry), at: centre(g.geometry) }; });
    var lats = [];
    shapes.forEach(function (s) { lats = lats.concat(s.xy.y.filter(function (v) { return v !== null; })); });
    var meanLat = lats.length ? lats.reduce(function (a, b) { return a + b; }, 0) / lats.length : 0;
    var legend = document.getElementById("insight-legend");

    function render(measure) {
      var values = grids.map(function (g) { return g[measure.key]; });
      var known = values.filter(function (v) { return v !== null && v !== undefined; });
      var low = measure.unit === "%" ? 0 : Math.min.apply(null, known.concat([0]));
      var high = measure.unit === "%" ? 100 : Math.max.apply(null, known.concat([1]));
      var scale = SCALES[measure.worse] || SCALES.high;
      var unit = measure.unit || "";
      var traces = [], annotations = [];
      shapes.forEach(function (s, i) {
        var v = values[i], has = v !== null && v !== undefined;
        var shown = has ? v + unit : data.texts.noValue;
        traces.push({
          type: "scatter", mode: "lines", x: s.xy.x, y: s.xy.y, fill: "toself",
          fillcolor: has ? mix(scale[0], scale[1], high > low ? (v - low) / (high - low) : 0) : NO_VALUE,
          line: { color: "#5b6470", width: 1 }, hoveron: "fills", hoverlabel: { namelength: -1 },
          name: s.grid.name + " · " + measure.label + ": " + shown, showlegend: false, uid: "grid-" + s.grid.id
        });
        if (s.at && grids.length <= LABELLED_GRIDS) {
          annotations.push({ x: s.at.x, y: s.at.y, text: s.grid.name + "<br><b>" + shown + "</b>", showarrow: false,
                             bgcolor: "rgba(255,255,255,0.8)", borderpad: 2,
                             font: { size: narrow(el) ? 11 : 13, color: "#1f2328" } });
        }
      });
      var layout = {
        // Fixed axes: on a phone a swipe over the map scrolls the page; a tap shows the grid's figure.
        margin: { l: 4, r: 4, t: 4, b: 4 }, hovermode: "closest", dragmode: false,
        xaxis: { visible: false, fixedrange: true },
        yaxis: { visible: false, fixedrange: true, scaleanchor: "x",
                 scaleratio: 1 / Math.cos(meanLat * Math.PI / 180) },
        paper_bgcolor: "#fff", plot_bgcolor: "#fbfbf9", annotations: annotations
      };
      // A fresh plot per measure: Plotly.react left the changed annotations unplaced (plotly.js 4.1).
      Plotly.newPlot(el, traces, layout, CONFIG).then(function () {
        el.setAttribute("data-ready", "true");
        el.setAttribute("data-measure", measure.key);
      });
      if (legend) {
        legend.innerHTML = "";
        var ramp = document.createElement("span");
        ramp.className = "ramp";
        ramp.style.background = "linear-gradient(to right, " + scale[0] + ", " + scale[1] + ")";
        [String(low) + unit, ramp, String(high) + unit].forEach(function (part) {
          if (typeof part === "string") {
            var label = document.createElement("span");
            label.textContent = part;
            legend.appendChild(label);
          } else legend.appendChild(part);
        });
      }
    }

    var byKey = {};
    data.map.measures.forEach(function (m) { byKey[m.key] = m; });
    var radios = document.querySelectorAll("input[name=measure]");
    radios.forEach(function (radio) {
      radio.addEventListener("change", function () { if (radio.checked) render(byKey[radio.value]); });
    });
    var checked = document.querySelector("input[name=measure]:checked");
    render(byKey[checked ? checked.value : data.map.measures[0].key]);
  }

  function drawTrend(data) {
    var el = document.getElementById("insight-trend");
    if (!el) return;
    var traces = data.trend.series.map(function (s, i) {
      return { type: "scatter", mode: "lines+markers", name: s.name, x: data.trend.weeks, y: s.counts,
               line: { color: LINE_COLOURS[i % LINE_COLOURS.length], width: 2 }, marker: { size: 4 },
               hovertemplate: data.texts.week + " %{x}<br>" + s.name + ": %{y}<extra></extra>" };
    });
    var small = narrow(el);
    var layout = {
      margin: { l: 36, r: 8, t: 8, b: 8 }, hovermode: "closest",
      xaxis: { type: "date", automargin: true, fixedrange: true, tickformat: "%m-%d" },
      yaxis: { title: { text: data.texts.demands }, rangemode: "tozero", fixedrange: true, automargin: true },
      legend: { orientation: "h", y: -0.1, yanchor: "top" },
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: small ? 11 : 13 }
    };
    Plotly.newPlot(el, traces, layout, CONFIG).then(function () { el.setAttribute("data-ready", "true"); });
  }

  function drawConfusion(data) {
    var el = document.getElementById("insight-confusion");
    var confusion = data.confusion;
    if (!el || !confusion) return;
    var n = confusion.labels.length;
    var small = narrow(el);
    el.style.height = Math.max(320, n * (small ? 24 : 30) + 160) + "px";
    var annotations = [];
    var most = 1; // the largest count: darker cells get white numbers
    confusion.matrix.forEach(function (row) { most = Math.max.apply(null, [most].concat(row)); });
    if (n <= 15) {
      confusion.matrix.forEach(function (row, i) {
        row.forEach(function (count, j) {
          if (!count) return;
          annotations.push({ x: confusion.labels[j], y: confusion.labels[i], text: String(count), showarrow: false,
                             font: { size: small ? 9 : 11, color: count > most / 2 ? "#fff" : "#1f2328" } });
        });
      });
    }
    var trace = {
      type: "heatmap", z: confusion.matrix, x: confusion.labels, y: confusion.labels,
      colorscale: [[0, "#ffffff"], [0.0001, "#fde7e7"], [1, "#b71c1c"]], showscale: false, xgap: 1, ygap: 1,
      hovertemplate: data.texts.true + ": %{y}<br>" + data.texts.predicted + ": %{x}<br>%{z}<extra></extra>"
    };
    var layout = {
      margin: { l: 8, r: 8, t: 8, b: 8 }, annotations: annotations,
      xaxis: { title: { text: data.texts.predicted }, type: "category", automargin: true, tickangle: -45,
               fixedrange: true },
      yaxis: { title: { text: data.texts.true }, type: "category", automargin: true, autorange: "reversed",
               fixedrange: true },
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: small ? 10 : 12 }
    };
    Plotly.newPlot(el, [trace], layout, CONFIG).then(function () { el.setAttribute("data-ready", "true"); });
  }

  function draw() {
    var source = document.getElementById("insight-data");
    if (!source || !window.Plotly) return;
    var data = JSON.parse(source.textContent);
    drawMap(data);
    drawTrend(data);
    drawConfusion(data);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
