/* The grid map on a region page, drawn with Plotly (served from the plotly wheel; no tiles, no CDN).
 *
 * Reads the JSON the page embeds with json_script as #map-data:
 *   {shapes: [{id, name, code, url, geometry}], points: [{name, address, lon, lat}]}
 * Each shape (a GeoJSON Polygon or MultiPolygon in lon/lat) becomes one filled scatter trace on plain
 * x/y axes; the y axis is anchored to x with the ratio 1/cos(latitude) so shapes keep their true
 * proportions. Clicking a shape opens its page; hovering shows its name and code.
 */
(function () {
  "use strict";

  var COLOURS = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#4e342e"];

  var shapes = window.GongzhiShapes, polygons = shapes.polygons, path = shapes.path;

  // Centre of the bounding box of the largest outer ring: where the label goes.
  function labelPoint(geometry) {
    var best = null, bestArea = -1;
    polygons(geometry).forEach(function (rings) {
      var xs = rings[0].map(function (p) { return p[0]; });
      var ys = rings[0].map(function (p) { return p[1]; });
      var box = [Math.min.apply(null, xs), Math.max.apply(null, xs), Math.min.apply(null, ys), Math.max.apply(null, ys)];
      var area = (box[1] - box[0]) * (box[3] - box[2]);
      if (area > bestArea) { bestArea = area; best = box; }
    });
    return best && { x: (best[0] + best[1]) / 2, y: (best[2] + best[3]) / 2 };
  }

  function translucent(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function draw() {
    var el = document.getElementById("map");
    var source = document.getElementById("map-data");
    if (!el || !source || !window.Plotly) return;
    var data = JSON.parse(source.textContent);

    var traces = [], annotations = [], lats = [];
    data.shapes.forEach(function (shape, i) {
      var xy = path(shape.geometry);
      var colour = COLOURS[i % COLOURS.length];
      var label = shape.code ? shape.name + " · " + shape.code : shape.name;
      lats = lats.concat(xy.y.filter(function (v) { return v !== null; }));
      traces.push({
        type: "scatter", mode: "lines", x: xy.x, y: xy.y,
        fill: "toself", fillcolor: translucent(colour, shape.url ? 0.18 : 0.08),
        line: { color: colour, width: 2 },
        hoveron: "fills", name: label, hoverlabel: { namelength: -1 },
        meta: { url: shape.url }, uid: "region-" + shape.id, showlegend: false
      });
      // Children get their name on the map; a region's own outline is already named by the page.
      var at = shape.url && labelPoint(shape.geometry);
      if (at) annotations.push({ x: at.x, y: at.y, text: shape.name, showarrow: false, font: { size: 13, color: "#1f2328" } });
    });
    if (data.points.length) {
      traces.push({
        type: "scatter", mode: "markers",
        x: data.points.map(function (p) { return p.lon; }),
        y: data.points.map(function (p) { return p.lat; }),
        text: data.points.map(function (p) { return p.name + "<br>" + p.address; }),
        hovertemplate: "%{text}<extra></extra>",
        marker: { size: 9, color: "#1f2328", symbol: "square" },
        name: "buildings", showlegend: false
      });
      lats = lats.concat(data.points.map(function (p) { return p.lat; }));
    }
    var meanLat = lats.length ? lats.reduce(function (a, b) { return a + b; }, 0) / lats.length : 0;

    var layout = {
      margin: { l: 10, r: 10, t: 10, b: 10 },
      xaxis: { visible: false },
      yaxis: { visible: false, scaleanchor: "x", scaleratio: 1 / Math.cos(meanLat * Math.PI / 180) },
      hovermode: "closest", dragmode: "pan",
      paper_bgcolor: "#fff", plot_bgcolor: "#fbfbf9",
      annotations: annotations
    };
    var config = {
      responsive: true, displaylogo: false, scrollZoom: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"]
    };
    Plotly.newPlot(el, traces, layout, config).then(function () {
      el.setAttribute("data-ready", "true");
    });

    el.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var url = point && point.data && point.data.meta && point.data.meta.url;
      if (url) window.location.assign(url);
    });
    // Plotly's drag surface owns the cursor: show a hand over shapes that open a page.
    function cursor(value) {
      var surface = el.querySelector(".nsewdrag");
      if (surface) surface.style.cursor = value;
    }
    el.on("plotly_hover", function (event) {
      var point = event.points && event.points[0];
      cursor(point && point.data.meta && point.data.meta.url ? "pointer" : "");
    });
    el.on("plotly_unhover", function () { cursor(""); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
