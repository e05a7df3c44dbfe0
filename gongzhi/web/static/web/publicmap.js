/* The public map of demands on /demands/public/: how many reports each place has and where they stand, over
 * the district's own map (gzmap.js). Places are grids at most: the data (data-map-url, with the list's
 * filters) hold each grid's name, community, a point inside it and its counts, never a demand's own point.
 * Zoomed out, a circle per community; zoomed in, a circle per grid, each named. A circle shows its number of reports
 * (red while some are being handled, green when all are closed); a click or tap shows the counts and the
 * most reported categories.
 */
(function () {
  "use strict";

  var GRID_ZOOM = 14.5; // from here on, grids instead of communities

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  }

  function draw() {
    var el = document.getElementById("public-map");
    if (!el || !window.L || !window.GongzhiMap) return;
    var t = el.dataset;
    var gz = GongzhiMap.create(el, { outlines: "all", communityLabels: false });
    var map = gz.map;
    var byCommunity = L.layerGroup(), byGrid = L.layerGroup();

    function popup(place) {
      var box = document.createElement("div");
      box.className = "gz-popup";
      box.appendChild(text("h3", place.name));
      if (place.community) box.appendChild(text("p", place.community, "muted"));
      box.appendChild(text("p", t.textReports.replace("{n}", place.total) + " · " +
                                t.textOpen.replace("{n}", place.open) + " · " + t.textDone.replace("{n}", place.done)));
      if (place.categories.length) {
        box.appendChild(text("p", t.textCategories));
        var list = document.createElement("ul");
        place.categories.forEach(function (c) { list.appendChild(text("li", c.name + " " + c.count)); });
        box.appendChild(list);
      }
      return box;
    }

    function circle(place, size, named, group, kind) {
      var icon = L.divIcon({ className: "public-place public-" + kind + " gz-obstacle", iconSize: [size, size],
                             html: '<span class="gz-count' + (place.open ? "" : " gz-done") + '"></span>' });
      var marker = L.marker([place.latitude, place.longitude], { icon: icon, keyboard: true, title: place.name,
                                                                 riseOnHover: true });
      marker.on("add", function () {
        var node = marker.getElement();
        if (!node || node.dataset.drawn) return;
        node.dataset.drawn = "1";
        var dot = node.firstChild;
        dot.textContent = String(place.total);
        dot.style.width = dot.style.height = size + "px";
        if (named) {
          var name = text("span", place.name, "public-place-name gz-name");
          name.dataset.priority = "8";
          node.appendChild(name);
        }
        node.setAttribute("aria-label", place.name + " " + t.textReports.replace("{n}", place.total));
      });
      marker.bindPopup(popup(place), { maxWidth: 260 });
      group.addLayer(marker);
    }

    function sized(total, most, small, large) { return Math.round(small + (large - small) * Math.sqrt(total / most)); }

    function communities(grids) {
      var found = {}, order = [];
      grids.forEach(function (g) {
        var c = found[g.community];
        if (!c) {
          c = found[g.community] = { name: g.community, community: "", total: 0, open: 0, done: 0, lon: 0, lat: 0,
                                     n: 0, counts: {} };
          order.push(c);
        }
        c.total += g.total; c.open += g.open; c.done += g.done;
        c.lon += g.longitude; c.lat += g.latitude; c.n += 1;
        g.categories.forEach(function (k) { c.counts[k.name] = (c.counts[k.name] || 0) + k.count; });
      });
      return order.map(function (c) {
        c.longitude = c.lon / c.n; c.latitude = c.lat / c.n;
        c.categories = Object.keys(c.counts).map(function (name) { return { name: name, count: c.counts[name] }; })
          .sort(function (a, b) { return b.count - a.count; }).slice(0, 3);
        return c;
      });
    }

    function showByZoom() {
      var fine = map.getZoom() >= GRID_ZOOM;
      var show = fine ? byGrid : byCommunity, hide = fine ? byCommunity : byGrid;
      if (gz.pageLayers.hasLayer(hide)) gz.pageLayers.removeLayer(hide);
      if (!gz.pageLayers.hasLayer(show)) gz.pageLayers.addLayer(show);
      el.dataset.level = fine ? "grid" : "community";
      gz.declutter();
    }

    var counts = fetch(t.mapUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); });
    Promise.all([gz.ready, counts]).then(function (both) {
      var grids = both[1].grids;
      var mostGrid = Math.max.apply(null, grids.map(function (g) { return g.total; }).concat([1]));
      grids.forEach(function (g) { circle(g, sized(g.total, mostGrid, 20, 34), true, byGrid, "grid"); });
      var places = communities(grids);
      var mostCommunity = Math.max.apply(null, places.map(function (c) { return c.total; }).concat([1]));
      places.forEach(function (c) { circle(c, sized(c.total, mostCommunity, 28, 46), true, byCommunity, "community"); });
      map.on("zoomend", showByZoom);
      showByZoom();
      el.dataset.grids = String(grids.length);
      el.setAttribute("data-ready", "true");
      var empty = document.getElementById("public-map-empty");
      if (empty) empty.hidden = grids.length > 0;
    }).catch(function () {
      el.setAttribute("data-ready", "error");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
