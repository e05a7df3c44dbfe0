/* The filing map of /demands/new/, drawn with Leaflet (django-leaflet's bundled leaflet.js; no CDN).
 *
 * Reads #grid-data: {grids: [{id, name, code, community, geometry}], tiles: {url, attribution, max_zoom} | null}
 * (public: outlines and names only). With a tile URL (GONGZHI_MAP_TILES) the grids lie over that base map;
 * without one (the demo, an office without internet) they are drawn on a plain background with their names.
 * A click or tap sets the point: a pin that can be dragged. "Use my location" asks the browser's
 * geolocation and shows its accuracy as a circle. Each new point fills the hidden longitude/latitude fields
 * and asks the public /api/v1/org/locate endpoint which grid it lies in; the answer is shown under the map
 * and selects that grid in the fallback list.
 */
(function () {
  "use strict";

  var LABELLED_GRIDS = 40; // more grids than this: names on hover only, so the map stays readable

  function draw() {
    var el = document.getElementById("demand-map");
    var source = document.getElementById("grid-data");
    if (!el || !source || !window.L) return;
    var data = JSON.parse(source.textContent);
    var grids = data.grids;
    var form = el.closest("form");
    var lonField = form.querySelector("input[name=longitude]");
    var latField = form.querySelector("input[name=latitude]");
    var gridField = form.querySelector("select[name=grid]");
    var status = document.getElementById("located");

    // The district's own map under the grids (gzmap.js: roads with names, numbered buildings, or the tiles
    // of GONGZHI_MAP_TILES), so that a resident finds their street; the grids are this page's layer.
    var map;
    if (window.GongzhiMap && el.dataset.basemapUrl) {
      var outlines = L.geoJSON({ type: "FeatureCollection", features: grids.map(function (g) {
        return { type: "Feature", geometry: g.geometry, properties: {} }; }) });
      map = window.GongzhiMap.create(el, { outlines: "community", communityLabels: false,
                                           fit: grids.length ? outlines.getBounds() : null }).map;
    } else {
      map = L.map(el, { zoomControl: false, attributionControl: !!data.tiles, tap: true });
      L.control.zoom({ position: "topright" }).addTo(map);
      if (data.tiles && data.tiles.url) {
        L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution || "", maxZoom: data.tiles.max_zoom || 18 }).addTo(map);
      } else {
        el.classList.add("no-tiles");
      }
    }

    var layers = [];
    grids.forEach(function (grid) {
      var layer = L.geoJSON(grid.geometry, {
        style: { color: "#b71c1c", weight: 1.5, fillColor: "#b71c1c", fillOpacity: 0.06, className: "grid grid-" + grid.id }
      });
      layer.eachLayer(function (shape) {
        shape.bindTooltip(grid.name, { permanent: grids.length <= LABELLED_GRIDS, direction: "center", className: "grid-label" });
      });
      layer.addTo(map);
      layers.push(layer);
    });
    var all = L.featureGroup(layers);
    if (layers.length) map.fitBounds(all.getBounds(), { padding: [24, 24] });
    else map.setView([39.9, 116.4], 12);

    var marker = null, accuracy = null;

    function setPoint(lat, lon, pan) {
      if (!marker) {
        marker = L.marker([lat, lon], { draggable: true, autoPan: true, title: el.dataset.textPoint, keyboard: true }).addTo(map);
        marker.on("dragend", function () { var at = marker.getLatLng(); setPoint(at.lat, at.lng); });
      } else {
        marker.setLatLng([lat, lon]);
      }
      if (pan) map.panTo([lat, lon]);
      lonField.value = lon.toFixed(6);
      latField.value = lat.toFixed(6);
      el.dataset.point = lonField.value + "," + latField.value;
      // For the "me too" list of the next step (demandsteps.js).
      form.dispatchEvent(new CustomEvent("gongzhi:point", { detail: { longitude: lon, latitude: lat } }));
      status.className = "located pending";
      var url = el.dataset.locateUrl + "?longitude=" + encodeURIComponent(lonField.value) +
                "&latitude=" + encodeURIComponent(latField.value);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (found) {
          if (el.dataset.point !== lonField.value + "," + latField.value) return; // a newer point won
          if (found.inside && found.grid) {
            status.textContent = el.dataset.textInside.replace("{grid}", found.grid.name);
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

    map.on("click", function (event) { setPoint(event.latlng.lat, event.latlng.lng); });

    // "Use my location": the browser's position, with how sure it is.
    var locate = document.getElementById("use-my-location");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        locate.disabled = true;
        status.textContent = el.dataset.textLocating;
        status.className = "located pending";
        navigator.geolocation.getCurrentPosition(function (position) {
          locate.disabled = false;
          var lat = position.coords.latitude, lon = position.coords.longitude, metres = position.coords.accuracy;
          if (accuracy) map.removeLayer(accuracy);
          accuracy = L.circle([lat, lon], { radius: metres, color: "#1565c0", weight: 1, fillOpacity: 0.1 }).addTo(map);
          map.fitBounds(accuracy.getBounds(), { maxZoom: 17 });
          el.dataset.accuracy = String(Math.round(metres));
          setPoint(lat, lon, true);
          var note = document.getElementById("accuracy");
          if (note) note.textContent = el.dataset.textAccuracy.replace("{m}", String(Math.round(metres)));
        }, function () {
          locate.disabled = false;
          status.textContent = el.dataset.textNoLocation;
          status.className = "located outside";
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    }

    // The search box: buildings (by address or name), grids, communities and streets of the district's own
    // register (/api/v1/org/places). A building sets the point; a region shows where it is.
    var search = document.getElementById("place-search");
    var results = document.getElementById("place-results");
    if (search && results) {
      var timer = null, asked = "";
      search.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var text = search.value.trim();
          if (text.length < 2) { results.hidden = true; results.innerHTML = ""; return; }
          asked = text;
          fetch(search.dataset.placesUrl + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
            .then(function (response) { return response.ok ? response.json() : []; })
            .then(function (places) {
              if (asked !== text) return; // a newer search won
              results.innerHTML = "";
              places.forEach(function (place) {
                var item = document.createElement("li");
                var pick = document.createElement("button");
                pick.type = "button";
                pick.className = "place place-" + place.kind;
                pick.textContent = place.label;
                pick.addEventListener("click", function () {
                  results.hidden = true;
                  search.value = place.label;
                  if (place.kind === "building") {
                    map.setView([place.latitude, place.longitude], 17);
                    setPoint(place.latitude, place.longitude);
                    // The building's address, for the unit to find it (the resident may add the room).
                    var address = form.querySelector("input[name=address]");
                    if (address && !address.value) {
                      address.value = place.label.split(" · ")[0];
                      address.dispatchEvent(new Event("input", { bubbles: true })); // kept in the draft
                    }
                  } else {
                    map.setView([place.latitude, place.longitude], place.kind === "grid" ? 16 : 14);
                  }
                });
                item.appendChild(pick);
                results.appendChild(item);
              });
              results.hidden = places.length === 0;
            })
            .catch(function () { results.hidden = true; });
        }, 250);
      });
    }

    // Coming back with a point (the form was refused for another reason): show it again.
    if (lonField.value && latField.value) setPoint(parseFloat(latField.value), parseFloat(lonField.value));
    el.setAttribute("data-ready", "true");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
