/* Grid outlines for the Plotly maps (regionmap.js, demandmap.js, insight.js): GeoJSON polygons as one
 * x/y path each and a point to put a label on. Load it before the map that uses it. */
window.GongzhiShapes = (function () {
  "use strict";

  function polygons(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return [geometry.coordinates];
    if (geometry.type === "MultiPolygon") return geometry.coordinates;
    return [];
  }

  // All rings of a geometry as one x/y path, rings separated by nulls (Plotly breaks the line there).
  function path(geometry) {
    var x = [], y = [];
    polygons(geometry).forEach(function (rings) {
      rings.forEach(function (ring) {
        if (x.length) { x.push(null); y.push(null); }
        ring.forEach(function (p) { x.push(p[0]); y.push(p[1]); });
      });
    });
    return { x: x, y: y };
  }

  // Centre of the bounding box of all outer rings: where a grid's label goes.
  function centre(geometry) {
    var xs = [], ys = [];
    polygons(geometry).forEach(function (rings) {
      rings[0].forEach(function (p) { xs.push(p[0]); ys.push(p[1]); });
    });
    if (!xs.length) return null;
    return { x: (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2,
             y: (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2 };
  }

  return { polygons: polygons, path: path, centre: centre };
})();
