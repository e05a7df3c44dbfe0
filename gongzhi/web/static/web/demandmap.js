/* The filing map of /demands/new/, drawn with Plotly (static plotly/plotly.min.js; no tiles, no CDN).
 *
 * Reads #grid-data: {grids: [{id, name, code, community, geometry}]} (public: outlines and names only).
 * Every grid is an outlined, lightly filled shape on plain x/y axes (y scaled by 1/cos(latitude) so shapes
 * keep their proportions). A tap or click that does not drag sets the hidden longitude/latitude fields,
 * marks the point, and asks the public /api/v1/org/locate endpoint which grid it lies in; the answer is
 * shown under the map and selects that grid in the fallback list. Pointer events are used so that mouse,
 * pen and touch behave alike, whatever Plotly does with its own mouse handlers.
 */
(function () {
  "use strict";

  var TAP_SLOP = 6; // px a pointer may move and still count as a tap, not a pan
  var LABELLED_GRIDS = 40; // more grids than this: names on hover only, so the map stays readable

  var shapes = window.GongzhiShapes, path = shapes.path, centre = shapes.centre;

  function draw() {
    var el = document.getElementById("demand-map");
    var source = document.getElementById("grid-data");
    if (!el || !source || !window.Plotly) return;
    var grids = JSON.parse(source.textContent).grids;
    var form = el.closest("form");
    var lonField = form.querySelector("input[name=longitude]");
    var latField = form.querySelector("input[name=latitude]");
    var gridField = form.querySelector("select[name=grid]");
    var status = document.getElementById("located");

    var traces = [], annotations = [], lats = [];
    grids.forEach(function (grid) {
      var xy = path(grid.geometry);
      var label = grid.code ? grid.name + " · " + grid.code : grid.name;
      lats = lats.concat(xy.y.filter(function (v) { return v !== null; }));
      traces.push({
        type: "scatter", mode: "lines", x: xy.x, y: xy.y, fill: "toself",
        fillcolor: "rgba(183,28,28,0.06)", line: { color: "#b71c1c", width: 1.5 },
        hoveron: "fills", name: label, hoverlabel: { namelength: -1 }, showlegend: false, uid: "grid-" + grid.id
      });
      var at = grids.length <= LABELLED_GRIDS && centre(grid.geometry);
      if (at) annotations.push({ x: at.x, y: at.y, text: grid.name, showarrow: false, font: { size: 12, color: "#1f2328" } });
    });
    // The chosen point: always the last trace, empty until a tap.
    traces.push({ type: "scatter", mode: "markers", x: [], y: [], hoverinfo: "skip", showlegend: false,
                  name: el.dataset.textPoint, marker: { size: 14, color: "#1565c0", line: { color: "#fff", width: 2 } } });
    var meanLat = lats.length ? lats.reduce(function (a, b) { return a + b; }, 0) / lats.length : 0;

    var layout = {
      margin: { l: 4, r: 4, t: 4, b: 4 },
      xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x", scaleratio: 1 / Math.cos(meanLat * Math.PI / 180) },
      hovermode: "closest", dragmode: "pan", paper_bgcolor: "#fff", plot_bgcolor: "#fbfbf9", annotations: annotations
    };
    var config = { responsive: true, displaylogo: false, scrollZoom: true,
                   modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"] };

    function setPoint(lon, lat) {
      var point = traces.length - 1;
      Plotly.restyle(el, { x: [[lon]], y: [[lat]] }, [point]);
      lonField.value = lon.toFixed(6);
      latField.value = lat.toFixed(6);
      el.dataset.point = lonField.value + "," + latField.value;
      status.className = "located pending";
      var url = el.dataset.locateUrl + "?longitude=" + encodeURIComponent(lonField.value) +
                "&latitude=" + encodeURIComponent(latField.value);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (found) {
          if (el.dataset.point !== lonField.value + "," + latField.value) return; // a newer tap won
          if (found.inside && found.grid) {
            var name = found.grid.grid_code ? found.grid.name + " · " + found.grid.grid_code : found.grid.name;
            status.textContent = el.dataset.textInside + ": " + name;
            status.className = "located inside";
            status.dataset.gridId = found.grid.id;
            if (gridField) gridField.value = String(found.grid.id);
          } else {
            // Off every grid: the demand could not be placed, so the point is not kept.
            status.textContent = el.dataset.textOutside;
            status.className = "located outside";
            delete status.dataset.gridId;
            lonField.value = latField.value = "";
          }
        })
        .catch(function () {
          status.textContent = el.dataset.textError;
          status.className = "located outside";
        });
    }

    // Plot-area pixel -> lon/lat, from the axes' current ranges (after pans and zooms).
    function toData(clientX, clientY) {
      var area = el.querySelector(".nsewdrag");
      var full = el._fullLayout;
      if (!area || !full) return null;
      var box = area.getBoundingClientRect();
      if (clientX < box.left || clientX > box.right || clientY < box.top || clientY > box.bottom) return null;
      var xr = full.xaxis.range, yr = full.yaxis.range;
      return { lon: xr[0] + (clientX - box.left) / box.width * (xr[1] - xr[0]),
               lat: yr[1] - (clientY - box.top) / box.height * (yr[1] - yr[0]) };
    }

    Plotly.newPlot(el, traces, layout, config).then(function () {
      var down = null;
      el.addEventListener("pointerdown", function (event) {
        down = event.target.closest(".modebar") ? null : { x: event.clientX, y: event.clientY, id: event.pointerId };
      }, true);
      el.addEventListener("pointerup", function (event) {
        if (!down || down.id !== event.pointerId) return;
        var moved = Math.abs(event.clientX - down.x) + Math.abs(event.clientY - down.y);
        down = null;
        if (moved > TAP_SLOP) return; // a pan, not a tap
        var at = toData(event.clientX, event.clientY);
        if (at) setPoint(at.lon, at.lat);
      }, true);
      // Coming back with a point (the form was refused for another reason): show it again.
      if (lonField.value && latField.value) setPoint(parseFloat(lonField.value), parseFloat(latField.value));
      el.setAttribute("data-ready", "true");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
