/* The map on a region page, drawn with Leaflet over the district's own map (gzmap.js).
 *
 * Reads #map-data: {shapes: [{id, name, url, geometry}], points: [{name, address, lon, lat}]}: the region's
 * parts (communities, grids) as outlined shapes with their names, each opening its page on a click or tap;
 * a grid without parts shows its own outline and its buildings (name and address on hover or tap).
 */
(function () {
  "use strict";

  var COLOURS = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#4e342e"];

  function draw() {
    var el = document.getElementById("map");
    var source = document.getElementById("map-data");
    if (!el || !source || !window.L || !window.GongzhiMap) return;
    var data = JSON.parse(source.textContent);
    var bounds = L.latLngBounds([]);
    data.shapes.forEach(function (shape) { bounds.extend(L.geoJSON(shape.geometry).getBounds()); });
    data.points.forEach(function (p) { bounds.extend([p.lat, p.lon]); });
    var hasParts = data.shapes.some(function (s) { return s.url; });
    var gz = GongzhiMap.create(el, { fit: bounds, outlines: "community", buildings: !data.points.length });
    var map = gz.map;

    data.shapes.forEach(function (shape, i) {
      var colour = COLOURS[i % COLOURS.length];
      var layer = L.geoJSON(shape.geometry, {
        style: { color: colour, weight: 2, fillColor: colour, fillOpacity: shape.url ? 0.12 : 0.05,
                 className: "region-shape" + (shape.url ? " region-link" : "") },
        interactive: !!shape.url
      });
      if (shape.url) {
        layer.on("click", function () { window.location.assign(shape.url); });
        layer.on("mouseover", function () { layer.setStyle({ fillOpacity: 0.3 }); });
        layer.on("mouseout", function () { layer.setStyle({ fillOpacity: 0.12 }); });
        layer.eachLayer(function (path) { path.on("add", function () {
          var node = path.getElement();
          if (node) { node.setAttribute("data-url", shape.url); node.setAttribute("aria-label", shape.name); }
        }); });
        gz.label(layer.getBounds().getCenter(), shape.name, "gz-page-label", 10);
      }
      gz.pageLayers.addLayer(layer);
    });
    data.points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], { radius: 6, color: "#1f2328", weight: 1.5, fillColor: "#fff",
                                                    fillOpacity: 1, className: "region-building" });
      marker.bindTooltip(p.name + (p.address ? " · " + p.address : ""), { direction: "top" });
      gz.pageLayers.addLayer(marker);
      gz.label([p.lat, p.lon], p.name, "gz-building-label gz-page-building", 5);
    });
    if (!hasParts && !data.points.length && !bounds.isValid()) map.setView([39.9, 116.4], 12);
    gz.ready.then(function () {
      gz.declutter();
      el.setAttribute("data-ready", "true");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
