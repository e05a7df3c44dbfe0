/* The analysis cockpit: the grid map (Leaflet over the district's own map, gzmap.js) and the charts (Plotly
 * from the static plotly/plotly.min.js; no CDN).
 *
 * Reads #insight-data:
 *   {map: {grids: [{id, name, url, geometry, demands, open, overdue, resolution_rate, hot_spots}],
 *          measures: [{key, label, worse: "high"|"low", unit?}]},
 *    trend: {weeks: [iso dates], series: [{code, name, counts}]},
 *    confusion: {labels: [...], matrix: [[...]]} | null,   rows: true category, columns: predicted
 *    texts: {demands, week, predicted, true, noValue}}
 * The map fills each grid by the measure chosen with the radio buttons, labels it with its figure and shows
 * the scale in the legend; switching recolours it. A grid without a value (a rate with nothing rated) is
 * grey. A click or tap on a grid opens its page.
 */
(function () {
  "use strict";

  var LINE_COLOURS = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5b6470"];
  var SCALES = { high: ["#fff5f0", "#b71c1c"], low: ["#b71c1c", "#e8f5e9"] }; // light = fine, red = look here
  var NO_VALUE = "#e6e6e6";
  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  function mix(from, to, t) {
    var a = parseInt(from.slice(1), 16), b = parseInt(to.slice(1), 16);
    var channel = function (shift) {
      var u = (a >> shift) & 255, v = (b >> shift) & 255;
      return Math.round(u + (v - u) * t);
    };
    return "rgb(" + channel(16) + "," + channel(8) + "," + channel(0) + ")";
  }

  function narrow(el) { return el.clientWidth < 600; }

  // The grid map: each grid filled by the chosen measure over the district's own map (gzmap.js), its name
  // and figure as a label, a legend under it; a click or tap opens the grid's page.
  function drawMap(data) {
    var el = document.getElementById("insight-map");
    if (!el || !window.L || !window.GongzhiMap) return;
    var grids = data.map.grids;
    var bounds = L.latLngBounds([]);
    grids.forEach(function (g) { bounds.extend(L.geoJSON(g.geometry).getBounds()); });
    var gz = GongzhiMap.create(el, { fit: bounds, outlines: "community" });
    var legend = document.getElementById("insight-legend");
    var shapes = grids.map(function (g) {
      var layer = L.geoJSON(g.geometry, { style: { color: "#5b6470", weight: 1, fillOpacity: 0.7, className: "insight-grid" } });
      if (g.url) {
        layer.on("click", function () { window.location.assign(g.url); });
        layer.eachLayer(function (path) { path.on("add", function () {
          var node = path.getElement();
          if (node) { node.setAttribute("data-url", g.url); node.setAttribute("data-name", g.name); }
        }); });
      }
      gz.pageLayers.addLayer(layer);
      return { grid: g, layer: layer, at: layer.getBounds().getCenter(), labels: [] };
    });
    // Zoomed out each grid shows its figure only; zoomed in (from GongzhiMap.zoom.grid) its name too.
    var figures = L.layerGroup(), named = L.layerGroup();
    function labelsByZoom() {
      var close = gz.map.getZoom() >= GongzhiMap.zoom.grid;
      gz.pageLayers.removeLayer(close ? figures : named);
      gz.pageLayers.addLayer(close ? named : figures);
      gz.declutter();
    }
    gz.map.on("zoomend", labelsByZoom);

    function render(measure) {
      var values = grids.map(function (g) { return g[measure.key]; });
      var known = values.filter(function (v) { return v !== null && v !== undefined; });
      var low = measure.unit === "%" ? 0 : Math.min.apply(null, known.concat([0]));
      var high = measure.unit === "%" ? 100 : Math.max.apply(null, known.concat([1]));
      var scale = SCALES[measure.worse] || SCALES.high;
      var unit = measure.unit || "";
      shapes.forEach(function (s, i) {
        var v = values[i], has = v !== null && v !== undefined;
        var shown = has ? v + unit : data.texts.noValue;
        var fill = has ? mix(scale[0], scale[1], high > low ? (v - low) / (high - low) : 0) : NO_VALUE;
        s.layer.setStyle({ fillColor: fill });
        if (!L.Browser.mobile) { // on a phone a tap opens the grid; the label already names it
          s.layer.eachLayer(function (path) {
            path.unbindTooltip();
            path.bindTooltip(s.grid.name + " · " + measure.label + ": " + shown, { sticky: true });
          });
        }
        s.labels.forEach(function (l) { figures.removeLayer(l); named.removeLayer(l); });
        s.labels = [gz.label(s.at, shown, "gz-page-label insight-value", 10, figures),
                    gz.label(s.at, s.grid.name + " " + shown, "gz-page-label insight-value", 10, named)];
      });
      labelsByZoom();
      el.setAttribute("data-ready", "true");
      el.setAttribute("data-measure", measure.key);
      if (legend) {
        legend.innerHTML = "";
        legend.className = "insight-legend gz-legend small";
        var ramp = document.createElement("span");
        ramp.className = "ramp";
        ramp.style.background = "linear-gradient(to right, " + scale[0] + ", " + scale[1] + ")";
        var none = document.createElement("span");
        none.innerHTML = '<span class="swatch"></span>';
        none.firstChild.style.background = NO_VALUE;
        none.appendChild(document.createTextNode(data.texts.noValue));
        [measure.label + ":", String(low) + unit, ramp, String(high) + unit, none].forEach(function (part) {
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
    gz.ready.then(function () { render(byKey[checked ? checked.value : data.map.measures[0].key]); });
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
    if (!source) return;
    var data = JSON.parse(source.textContent);
    drawMap(data);
    if (!window.Plotly) return;
    drawTrend(data);
    drawConfusion(data);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
