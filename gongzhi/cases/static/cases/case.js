/* The case file page: the map of the complaints per grid (gzmap.js; grid points only, never a demand's own),
 * and the print button. */
(function () {
  "use strict";

  function drawMap() {
    var el = document.getElementById("case-map");
    var data = document.getElementById("case-map-points");
    if (!el || !data || !window.L || !window.GongzhiMap) return;
    var grids = JSON.parse(data.textContent);
    // At least a few hundred metres across: one grid's point alone is no area to fit.
    var fit = L.latLngBounds(grids.map(function (g) { return g.point; }));
    var centre = fit.getCenter(), half = 0.004;
    fit.extend([centre.lat - half, centre.lng - half]).extend([centre.lat + half, centre.lng + half]);
    fit = fit.pad(0.2);
    var gz = GongzhiMap.create(el, { outlines: "all", fit: fit });
    var most = grids.reduce(function (m, g) { return Math.max(m, g.count); }, 1);
    grids.forEach(function (g) {
      var size = Math.round(26 + 18 * Math.sqrt(g.count / most));
      var icon = L.divIcon({ className: "case-place gz-obstacle", iconSize: [size, size],
                             html: '<span class="gz-count"></span>' });
      var marker = L.marker(g.point, { icon: icon, keyboard: true, title: g.name });
      marker.on("add", function () {
        var node = marker.getElement();
        if (!node || node.dataset.drawn) return;
        node.dataset.drawn = "1";
        var dot = node.firstChild;
        dot.textContent = String(g.count);
        dot.style.width = dot.style.height = size + "px";
        node.setAttribute("aria-label", g.name + " " + el.dataset.textReports.replace("{n}", g.count));
      });
      marker.bindTooltip(g.name + " · " + el.dataset.textReports.replace("{n}", g.count));
      gz.map.addLayer(marker);
    });
    if (gz.map.getZoom() > 16) gz.map.setZoom(16);
  }

  function printButton() {
    var button = document.querySelector(".print-button");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }

  document.addEventListener("DOMContentLoaded", function () { drawMap(); printButton(); });
  if (document.readyState !== "loading") { drawMap(); printButton(); }
})();
