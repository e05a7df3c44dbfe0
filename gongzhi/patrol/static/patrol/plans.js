/* The plan page (patrol/plans.html): a map of the grid's buildings and places; a click or tap on it sets
 * the new place's longitude and latitude. */
(function () {
  "use strict";
  var el = document.getElementById("plan-map");
  var data = document.getElementById("plan-points");
  if (!el || !window.GongzhiMap || !window.L) return;
  var points = data ? JSON.parse(data.textContent) : [];
  var bounds = points.length ? L.latLngBounds(points.map(function (p) { return [p.lat, p.lon]; })).pad(0.5) : null;
  var created = window.GongzhiMap.create(el, bounds ? { fit: bounds } : {});
  var map = created.map, pin = null;
  points.forEach(function (p) {
    L.circleMarker([p.lat, p.lon], { radius: 7, weight: 2, color: p.kind === "place" ? "#b71c1c" : "#37474f",
                                     fillOpacity: 0.5, className: "gz-obstacle" }).bindTooltip(p.name).addTo(map);
  });
  if (bounds) map.fitBounds(bounds, { maxZoom: 18 });
  var lon = document.getElementById("place_longitude"), lat = document.getElementById("place_latitude");
  function set(latlng) {
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
  }
  map.on("click", function (e) {
    if (!pin) {
      pin = L.marker(e.latlng, { draggable: true, title: el.dataset.textPin }).addTo(map);
      pin.on("dragend", function () { set(pin.getLatLng()); });
    } else {
      pin.setLatLng(e.latlng);
    }
    set(e.latlng);
  });
})();
