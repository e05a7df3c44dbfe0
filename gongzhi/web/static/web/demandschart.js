/* The dashboard's bar chart (Plotly, static; no CDN): the three rates per row as grouped bars in percent,
 * the composite score as diamonds on the same 0–100 scale. Reads #rates-data:
 *   {names: [...], series: [{name, values: [...]}, ×3], score: {name, values: [...]}}
 * (null where a rate could not be measured: no bar rather than a misleading zero).
 */
(function () {
  "use strict";

  var COLOURS = ["#1565c0", "#2e7d32", "#ef6c00"];

  function draw() {
    var el = document.getElementById("rates-chart");
    var source = document.getElementById("rates-data");
    if (!el || !source || !window.Plotly) return;
    var data = JSON.parse(source.textContent);
    var traces = data.series.map(function (s, i) {
      return { type: "bar", name: s.name, x: data.names, y: s.values, marker: { color: COLOURS[i % COLOURS.length] },
               hovertemplate: "%{x}<br>" + s.name + ": %{y:.1f}%<extra></extra>" };
    });
    traces.push({ type: "scatter", mode: "markers", name: data.score.name, x: data.names, y: data.score.values,
                  marker: { symbol: "diamond", size: 11, color: "#b71c1c", line: { color: "#fff", width: 1 } },
                  hovertemplate: "%{x}<br>" + data.score.name + ": %{y:.1f}<extra></extra>" });
    var narrow = el.clientWidth < 600;
    var layout = {
      barmode: "group", margin: { l: 40, r: 10, t: 10, b: narrow ? 90 : 70 },
      yaxis: { range: [0, 105], ticksuffix: "", fixedrange: true },
      xaxis: { automargin: true, tickangle: narrow ? -40 : 0, fixedrange: true },
      legend: { orientation: "h", y: narrow ? -0.5 : -0.25 },
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: narrow ? 11 : 13 }
    };
    Plotly.newPlot(el, traces, layout, { responsive: true, displaylogo: false, displayModeBar: false })
      .then(function () { el.setAttribute("data-ready", "true"); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
