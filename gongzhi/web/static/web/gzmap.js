/* The maps' shared base: a Leaflet map (django-leaflet's bundled leaflet.js; no CDN) with the district's own
 * map under the page's layers. Used by the region page (regionmap.js), the cockpit (insight.js) and the public
 * map of demands (publicmap.js).
 *
 * GongzhiMap.create(element, options) reads the public /api/v1/org/basemap (options.basemapUrl, or the
 * element's data-basemap-url): with a tile server configured (GONGZHI_MAP_TILES) the tiles are the base
 * layer; without one it draws the district's own vector layers: community and grid outlines with their
 * names, roads with their names, buildings with their numbers. Labels appear as the map is zoomed in
 * (communities first, then grids and roads, then building numbers) and a label that would overlap one
 * drawn before it is hidden, so the map stays readable at every width.
 *
 * Options: basemapUrl, outlines ("all" | "community" | false: which region outlines the base draws; a
 * page drawing its own grids passes "community"), communityLabels (false: the page names the communities
 * itself), buildings (false: the page draws its own), fit (a
 * Leaflet LatLngBounds; default: the base map's extent). Returns {map, ready, label, declutter}: `ready`
 * is a promise of the base map's data; `label(latlng, text, className, priority)` adds a label the
 * decluttering knows about (a higher priority wins a place first); the page's markers with the class
 * gz-obstacle are never covered by a label.
 */
window.GongzhiMap = (function () {
  "use strict";

  var ZOOM = { community: 12, grid: 15, road: 14, building: 17, buildingDots: 15 };
  var ROAD_LABEL_SPACING_PX = 260; // a road's name is repeated about this far apart on screen

  function create(el, options) {
    options = options || {};
    var url = options.basemapUrl || el.dataset.basemapUrl;
    var map = L.map(el, { zoomControl: false, attributionControl: false, tap: true, zoomSnap: 0.5 });
    el.gzMap = map; // for the browser tests
    L.control.zoom({ position: "topright" }).addTo(map);
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);

    // Panes: the base's outlines below the page's layers; roads and building dots above the page's fills
    // (so a choropleth does not hide them) but not catching clicks, which go to the page's layers.
    var below = map.createPane("gzBase");
    below.style.zIndex = 350;
    var above = map.createPane("gzAbove");
    above.style.zIndex = 450;
    above.style.pointerEvents = "none";
    var belowRenderer = L.svg({ pane: "gzBase" }), aboveRenderer = L.svg({ pane: "gzAbove" });

    var groups = { community: L.layerGroup(), grid: L.layerGroup(), road: L.layerGroup(),
                   building: L.layerGroup(), buildingDots: L.layerGroup(), page: L.layerGroup().addTo(map) };

    // A text on the map at a point, centred on it (an inner span, since Leaflet positions the marker's own
    // element with a transform). Text only: names are set as text, never as HTML.
    function label(latlng, text, className, priority, group) {
      var icon = L.divIcon({ className: "gz-label " + (className || ""), html: "", iconSize: null });
      var marker = L.marker(latlng, { icon: icon, interactive: false, keyboard: false, pane: "tooltipPane" });
      marker.on("add", function () {
        var node = marker.getElement();
        if (!node || node.firstChild) return;
        var span = document.createElement("span");
        span.textContent = text;
        node.appendChild(span);
        node.dataset.priority = String(priority || 0);
      });
      (group || groups.page).addLayer(marker);
      return marker;
    }

    // Hide every label that overlaps a label of higher priority (or an earlier one of the same).
    var pending = null;
    function declutter() {
      pending = null;
      el.dataset.decluttered = String(Number(el.dataset.decluttered || 0) + 1); // the browser tests wait for it
      // Labels (.gz-label: the text is its span) and names the page puts beside its markers (.gz-name).
      var nodes = Array.prototype.slice.call(el.querySelectorAll(".gz-label, .gz-name"));
      nodes = nodes.filter(function (n) { return n.firstChild; });
      nodes.forEach(function (n) { n.classList.remove("gz-hidden"); });
      nodes.sort(function (a, b) { return Number(b.dataset.priority || 0) - Number(a.dataset.priority || 0); });
      var box = el.getBoundingClientRect();
      // The page's markers (class gz-obstacle) keep their place: labels give way to them (a marker's own
      // name, inside it, does not give way to it).
      var obstacles = Array.prototype.map.call(el.querySelectorAll(".gz-obstacle"), function (n) {
        return { node: n, box: n.getBoundingClientRect() };
      });
      var placed = [];
      function overlap(r, p, gap) {
        return r.left < p.right + gap && r.right > p.left - gap && r.top < p.bottom + gap && r.bottom > p.top - gap;
      }
      nodes.forEach(function (n) {
        var r = (n.classList.contains("gz-name") ? n : n.firstChild).getBoundingClientRect();
        if (!r.width || r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) return;
        var clash = obstacles.some(function (o) { return !o.node.contains(n) && overlap(r, o.box, 0); }) ||
                    placed.some(function (p) { return overlap(r, p, 2); });
        if (clash) n.classList.add("gz-hidden");
        else placed.push(r);
      });
    }
    function later() { if (!pending) pending = window.requestAnimationFrame(declutter); }

    function showByZoom() {
      var z = map.getZoom();
      [["community", z >= ZOOM.community && z < ZOOM.building], ["grid", z >= ZOOM.grid], ["road", z >= ZOOM.road],
       ["buildingDots", z >= ZOOM.buildingDots], ["building", z >= ZOOM.building]].forEach(function (pair) {
        var group = groups[pair[0]], shown = pair[1];
        if (shown && !map.hasLayer(group)) map.addLayer(group);
        else if (!shown && map.hasLayer(group)) map.removeLayer(group);
      });
      var thin = z < ZOOM.road;
      roadLines.forEach(function (pair) {
        pair[0].setStyle({ weight: thin ? 3.5 : 7 });
        pair[1].setStyle({ weight: thin ? 2 : 4 });
      });
      el.dataset.zoom = String(z);
      placeRoadLabels();
      later();
    }

    // A road's name along it, about every ROAD_LABEL_SPACING_PX on screen: upright, and vertical (as on
    // Chinese maps) for roads running north-south.
    var roads = [], roadLines = [];
    function placeRoadLabels() {
      groups.road.clearLayers();
      if (map.getZoom() < ZOOM.road) return;
      var view = map.getBounds().pad(0.1);
      roads.forEach(function (road) {
        road.parts.forEach(function (part) {
          var points = part.map(function (p) { return map.latLngToLayerPoint(L.latLng(p[1], p[0])); });
          var walked = 0, next = ROAD_LABEL_SPACING_PX / 2;
          for (var i = 1; i < points.length; i++) {
            var a = points[i - 1], b = points[i], length = a.distanceTo(b);
            while (walked + length >= next) {
              var t = (next - walked) / length;
              var at = map.layerPointToLatLng(L.point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t));
              if (view.contains(at)) {
                var vertical = Math.abs(b.y - a.y) > Math.abs(b.x - a.x);
                label(at, road.name, "gz-road-label" + (vertical ? " gz-vertical" : ""), 2, groups.road);
              }
              next += ROAD_LABEL_SPACING_PX;
            }
            walked += length;
          }
        });
      });
    }

    function centre(geometry) {
      var layer = L.geoJSON(geometry);
      return layer.getBounds().getCenter();
    }

    function drawBase(data) {
      if (data.tiles && data.tiles.url) {
        L.tileLayer(data.tiles.url, { maxZoom: data.tiles.max_zoom || 18 }).addTo(map);
        if (data.tiles.attribution) L.control.attribution({ prefix: false }).addAttribution(data.tiles.attribution).addTo(map);
        el.classList.add("gz-tiles");
      } else {
        el.classList.add("gz-own-map");
      }
      if (!options.fit) {
        var all = L.featureGroup(data.regions.map(function (r) { return L.geoJSON(r.geometry); }));
        if (data.regions.length) map.fitBounds(all.getBounds(), { padding: [12, 12] });
        else map.setView([39.9, 116.4], 12);
      }
      var outlines = options.outlines === undefined ? "all" : options.outlines;
      data.regions.forEach(function (region) {
        var isCommunity = region.level === "community" || region.level === "street";
        if (region.level === "district") {
          L.geoJSON(region.geometry, { renderer: belowRenderer, interactive: false,
            style: { color: "#5b6470", weight: 2.5, fill: false, className: "gz-district" } }).addTo(map);
          return;
        }
        if (!outlines || (outlines === "community" && !isCommunity)) return;
        L.geoJSON(region.geometry, { renderer: belowRenderer, interactive: false, style: isCommunity
          ? { color: "#6d4c41", weight: 2, dashArray: region.level === "street" ? null : "6 4", fill: false,
              className: "gz-" + region.level }
          : { color: "#9aa3ad", weight: 1, fill: false, className: "gz-grid" } }).addTo(map);
        if (region.level === "community" && options.communityLabels !== false) {
          label(centre(region.geometry), region.name, "gz-community-label", 3, groups.community);
        }
        if (region.level === "grid") label(centre(region.geometry), region.name, "gz-grid-label", 1, groups.grid);
      });
      data.roads.forEach(function (road) {
        var line = road.line;
        var parts = line.type === "LineString" ? [line.coordinates] : line.coordinates;
        roads.push({ name: road.name, parts: parts });
        roadLines.push([
          L.geoJSON(line, { renderer: aboveRenderer, interactive: false,
            style: { color: "#ffffff", weight: 7, opacity: 0.95, lineCap: "round", className: "gz-road-casing" } }).addTo(map),
          L.geoJSON(line, { renderer: aboveRenderer, interactive: false,
            style: { color: "#f0b64a", weight: 4, opacity: 1, lineCap: "round", className: "gz-road" } }).addTo(map)]);
      });
      if (options.buildings !== false) {
        data.buildings.forEach(function (b) {
          var at = L.latLng(b.latitude, b.longitude);
          groups.buildingDots.addLayer(L.circleMarker(at, { renderer: aboveRenderer, interactive: false, radius: 3,
            color: "#5b6470", weight: 1, fillColor: "#cfd4da", fillOpacity: 1, className: "gz-building" }));
          label(at, b.number, "gz-building-label", 0, groups.building);
        });
      }
      showByZoom();
    }

    if (options.fit && options.fit.isValid && options.fit.isValid()) map.fitBounds(options.fit, { padding: [16, 16] });
    else options.fit = null;
    if (!options.fit && !url) map.setView([39.9, 116.4], 12);
    map.on("zoomend", function () { if (map._loaded) showByZoom(); });
    map.on("moveend", function () { if (roads.length) placeRoadLabels(); later(); });
    map.on("resize", later);

    var ready = url
      ? fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
          .then(function (data) { drawBase(data); el.dataset.base = data.tiles ? "tiles" : "own"; return data; })
          .catch(function (error) {
            el.dataset.base = "none";
            if (!map._loaded) map.setView([39.9, 116.4], 12);
            if (window.console) console.error("gongzhi map: no base map", error);
            return null;
          })
      : Promise.resolve(null);

    return { map: map, ready: ready, label: label, declutter: later, pageLayers: groups.page };
  }

  return { create: create, zoom: ZOOM };
})();
