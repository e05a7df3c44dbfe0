/* duties pages: a goal's progress chart (Plotly from the static plotly/plotly.min.js, no CDN).
 *
 * The chart reads #goal-chart-data (written by the page with json_script):
 *   {unit, reported: {x: [dates], y: [values]}, expected: {x: [start, deadline], y: [start value, target]},
 *    today, texts: {reported, expected, today}}
 * and draws the reported values as a line over the straight path from the start value to the target.
 */
(function () {
  "use strict";

  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  function drawGoalChart() {
    var el = document.getElementById("goal-chart");
    var source = document.getElementById("goal-chart-data");
    if (!el || !source || typeof Plotly === "undefined") return;
    var data = JSON.parse(source.textContent);
    var unit = data.unit ? " " + data.unit : "";
    var traces = [
      { type: "scatter", mode: "lines", name: data.texts.expected, x: data.expected.x, y: data.expected.y,
        line: { color: "#8a939e", dash: "dash", width: 2 },
        hovertemplate: "%{x}<br>%{y}" + unit + "<extra>" + data.texts.expected + "</extra>" },
      { type: "scatter", mode: "lines+markers", name: data.texts.reported, x: data.reported.x, y: data.reported.y,
        line: { color: "#b71c1c", width: 3 }, marker: { size: 8, color: "#b71c1c" },
        hovertemplate: "%{x}<br>%{y}" + unit + "<extra>" + data.texts.reported + "</extra>" }
    ];
    var layout = {
      // Fixed axes: on a phone a swipe over the chart scrolls the page.
      margin: { l: 44, r: 10, t: 28, b: 40 }, dragmode: false, hovermode: "closest",
      xaxis: { type: "date", fixedrange: true, automargin: true },
      yaxis: { fixedrange: true, automargin: true, ticksuffix: data.unit === "%" ? "%" : "" },
      legend: { orientation: "h", y: -0.2, yanchor: "top" },
      shapes: data.today ? [{ type: "line", xref: "x", yref: "paper", x0: data.today, x1: data.today, y0: 0, y1: 1,
                              line: { color: "#1565c0", width: 1, dash: "dot" } }] : [],
      annotations: data.today ? [{ x: data.today, y: 1, xref: "x", yref: "paper", text: data.texts.today,
                                   showarrow: false, yanchor: "bottom", font: { size: 11, color: "#1565c0" } }] : [],
      paper_bgcolor: "#fff", plot_bgcolor: "#fbfbf9", font: { size: el.clientWidth < 500 ? 11 : 13 }
    };
    Plotly.newPlot(el, traces, layout, CONFIG).then(function () {
      el.setAttribute("data-ready", "true");
      el.setAttribute("data-points", String(data.reported.x.length));
    });
  }

  document.addEventListener("DOMContentLoaded", drawGoalChart);
})();
