/* 今日巡查 (patrol/today.html): the map of today's stops, check-ins with the phone's location, findings with
 * photos. Every check-in and finding goes first into an outbox on the phone (IndexedDB, photos as Blobs),
 * with its own key and the time and place it was recorded; the outbox is sent when the phone is online
 * (at once, when the connection returns, and every 30 s), so a patrol in a basement loses nothing. The
 * server stores each key once, so sending twice creates nothing twice. */
(function () {
  "use strict";

  var DB_NAME = "gongzhi-patrol", STORE = "outbox";
  var status = document.getElementById("outbox-status");
  if (!status) return;
  var sentCount = 0, sending = false;

  function text(el, name, values) {
    var s = el.dataset[name] || "";
    Object.keys(values || {}).forEach(function (k) { s = s.replace("{" + k + "}", values[k]); });
    return s;
  }

  function newKey(prefix) {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return prefix + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- the outbox ----------------------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result;
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        result = work(tx.objectStore(STORE));
      });
    });
  }

  // Only the signed-in person's records: what another person left queued on a shared phone waits for them.
  var me = status.dataset.user;

  function all() {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var request = db.transaction(STORE, "readonly").objectStore(STORE).getAll();
        request.onsuccess = function () {
          db.close();
          resolve(request.result.filter(function (item) { return item.user === me; })
            .sort(function (a, b) { return a.created - b.created; }));
        };
        request.onerror = function () { db.close(); reject(request.error); };
      });
    });
  }

  function put(item) { return withStore("readwrite", function (store) { store.put(item); }); }
  function remove(key) { return withStore("readwrite", function (store) { store.delete(key); }); }

  // The outbox's state sits in the page's flow (it covers no field); after a finding it is repeated under the
  // finding's button, where the worker is looking.
  var findingSent = false;
  function show(message, kind) {
    status.hidden = !message;
    status.textContent = message || "";
    status.className = "outbox-status" + (kind ? " " + kind : "");
    var below = document.getElementById("finding-state");
    if (below && findingSent) {
      below.textContent = message || "";
      below.className = "small outbox-echo" + (kind ? " " + kind : "");
    }
  }

  function refreshStatus(extra) {
    return all().then(function (items) {
      status.dataset.waiting = String(items.length);
      if (items.length) {
        var line = text(status, "textWaiting", { n: items.length });
        if (!navigator.onLine) line += " · " + text(status, "textOffline");
        show(extra ? line + " · " + extra : line, "waiting");
      } else if (sentCount) {
        show(text(status, "textSent") + (extra ? " · " + extra : ""), "sent");
      } else {
        show(extra || "", extra ? "bad" : "");
      }
    });
  }

  function send(item) {
    var body = new FormData();
    Object.keys(item.fields).forEach(function (name) {
      var value = item.fields[name];
      if (value !== null && value !== undefined && value !== "") body.append(name, value);
    });
    body.append("client_key", item.key);
    body.append("recorded_at", item.recordedAt);
    (item.photos || []).forEach(function (photo, i) { body.append("photos", photo.blob, photo.name || "photo-" + i + ".jpg"); });
    return fetch(item.url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    });
  }

  // Send what waits, oldest first. A network failure stops the round (kept for later); an answer the server
  // refuses (a 4xx with a reason) is taken out of the outbox and its reason shown, so one bad record does
  // not hold back the others; signed out (a redirect to the sign-in page) keeps everything.
  function flush() {
    if (sending || !navigator.onLine) return refreshStatus();
    sending = true;
    var problem = "";
    return all().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function (stop) {
          if (stop) return true;
          return send(item).then(function (response) {
            if (response.type === "opaqueredirect" || response.status === 401) {
              problem = text(status, "textSignedOut");
              return true;
            }
            if (response.ok) {
              return response.json().then(function (answer) {
                sentCount += 1;
                done(item, answer);
                return remove(item.key).then(function () { return false; });
              });
            }
            if (response.status >= 400 && response.status < 500 && response.status !== 429) {
              return response.json().catch(function () { return {}; }).then(function (answer) {
                problem = text(status, "textRefused", { message: answer.message || response.status });
                refused(item);
                return remove(item.key).then(function () { return false; });
              });
            }
            return true; // 5xx, 429: try again later
          }, function () { return true; }); // offline after all
        });
      }, Promise.resolve(false));
    }).then(function () {
      sending = false;
      return refreshStatus(problem);
    }, function () { sending = false; });
  }

  // --- what the page shows of each record -------------------------------------------------------------------
  function taskItem(id) { return document.querySelector('.patrol-task[data-task="' + id + '"]'); }

  // The header's count of stops left (and the "only those left" link) follow each check-in recorded.
  function countDone() {
    var counts = document.getElementById("patrol-counts");
    if (!counts) return;
    var left = Math.max(0, parseInt(counts.dataset.left, 10) - 1), total = parseInt(counts.dataset.total, 10);
    counts.dataset.left = String(left);
    document.getElementById("patrol-left").textContent = String(left);
    var only = document.getElementById("patrol-only-left");
    if (only) only.hidden = !left || left === total;
  }

  function done(item, answer) {
    if (item.kind === "check_in") {
      var li = taskItem(item.fields.task);
      if (li) {
        if (!li.classList.contains("done")) countDone();
        li.classList.add("done");
        li.classList.remove("queued");
        var state = li.querySelector(".task-state");
        if (state) {
          state.textContent = "✓ " + text(status, "textChecked", { time: new Date(item.recordedAt).toTimeString().slice(0, 5) });
          if (answer.flagged) state.textContent += " · " + text(status, "textFlagged");
        }
        var button = li.querySelector("button");
        if (button) button.hidden = true;
      }
    } else if (item.kind === "finding") {
      var row = document.querySelector('#finding-list [data-key="' + item.key + '"]');
      if (row) {
        var list = document.getElementById("finding-list");
        var number = document.createElement("span");
        number.className = "finding-number";
        number.appendChild(document.createTextNode((list.dataset.textNumber || "") + " "));
        var link = document.createElement("a");
        link.href = answer.url || "#";
        link.textContent = answer.number || "";
        number.appendChild(link);
        var state = row.querySelector(".state");
        row.insertBefore(number, state);
        row.insertBefore(document.createTextNode(" "), state);
        state.textContent = answer.state || "";
        row.classList.remove("queued");
      }
    }
  }

  function refused(item) {
    if (item.kind === "check_in") {
      var li = taskItem(item.fields.task);
      if (li) {
        li.classList.remove("queued");
        var button = li.querySelector("button");
        if (button) button.disabled = false;
      }
    } else {
      var row = document.querySelector('#finding-list [data-key="' + item.key + '"]');
      if (row) row.remove();
    }
  }

  // --- location ----------------------------------------------------------------------------------------------
  var picked = null; // a point tapped on the map

  function locate() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(function (position) {
        resolve({ lon: position.coords.longitude, lat: position.coords.latitude, accuracy: position.coords.accuracy });
      }, function () { resolve(null); }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  // --- check-ins -------------------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll(".check-in-form"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var li = form.closest(".patrol-task"), button = form.querySelector("button");
      var recordedAt = new Date().toISOString();
      button.disabled = true;
      locate().then(function (where) {
        var note = "";
        if (!where && picked) { where = { lon: picked.lng, lat: picked.lat, accuracy: null }; note = "manual"; }
        var item = {
          key: newKey("c"), kind: "check_in", url: form.action, created: Date.now(), recordedAt: recordedAt, user: me,
          fields: { task: li.dataset.task, longitude: where ? where.lon : "", latitude: where ? where.lat : "",
                    accuracy: where && where.accuracy !== null ? Math.round(where.accuracy) : "", note: note }
        };
        return put(item).then(function () {
          li.classList.add("queued");
          form.querySelector(".task-state").textContent = text(status, "textWaiting", { n: "" }).trim() +
            (where ? "" : " · " + text(status, "textNoLocation"));
          return flush();
        });
      });
    });
  });

  // --- findings ------------------------------------------------------------------------------------------
  var findingForm = document.getElementById("finding-form");
  if (findingForm) {
    var solution = document.getElementById("solution-field");
    var toggle = function () {
      var solved = findingForm.querySelector("input[name=solved]:checked");
      solution.hidden = !(solved && solved.value === "yes");
    };
    Array.prototype.forEach.call(findingForm.querySelectorAll("input[name=solved]"), function (r) {
      r.addEventListener("change", toggle);
    });
    toggle();

    findingForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var recordedAt = new Date().toISOString();
      var fields = {
        text: findingForm.elements.text.value,
        solved: (findingForm.querySelector("input[name=solved]:checked") || {}).value || "yes",
        solution: findingForm.elements.solution.value
      };
      var files = Array.prototype.slice.call(findingForm.elements.photos.files || []);
      var state = document.getElementById("finding-state");
      (picked ? Promise.resolve({ lon: picked.lng, lat: picked.lat }) : locate()).then(function (where) {
        fields.longitude = where ? where.lon : "";
        fields.latitude = where ? where.lat : "";
        // Photos are kept as Blobs: the File objects of the input are read now, while they are at hand.
        return Promise.all(files.map(function (file) {
          return file.arrayBuffer().then(function (buffer) {
            return { name: file.name, blob: new Blob([buffer], { type: file.type || "image/jpeg" }) };
          });
        }));
      }).then(function (photos) {
        var item = { key: newKey("f"), kind: "finding", url: findingForm.action, created: Date.now(),
                     recordedAt: recordedAt, user: me, fields: fields, photos: photos };
        return put(item).then(function () {
          var list = document.getElementById("finding-list");
          var none = list.querySelector(".none");
          if (none) none.remove();
          var row = document.createElement("li");
          row.dataset.key = item.key;
          row.className = "queued";
          var what = document.createElement("span");
          what.className = "finding-text";
          what.textContent = fields.text.slice(0, 40) + " ";
          var label = document.createElement("span");
          label.className = "badge state";
          label.textContent = list.dataset.textQueued;
          row.appendChild(what);
          row.appendChild(label);
          list.insertBefore(row, list.firstChild);
          findingForm.reset();
          toggle();
          state.textContent = "";
          findingSent = true;
          if (pin) { pin.remove(); pin = null; picked = null; }
          return flush();
        });
      });
    });
  }

  // --- the map ---------------------------------------------------------------------------------------------
  var mapEl = document.getElementById("patrol-map"), pin = null;
  var pointsEl = document.getElementById("patrol-points");
  if (mapEl && window.GongzhiMap && window.L) {
    var points = pointsEl ? JSON.parse(pointsEl.textContent) : [];
    var bounds = points.length ? L.latLngBounds(points.map(function (p) { return [p.lat, p.lon]; })).pad(0.6) : null;
    var created = window.GongzhiMap.create(mapEl, bounds ? { outlines: "all", fit: bounds } : { outlines: "all" });
    var map = created.map;
    var layer = L.featureGroup().addTo(map);
    points.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 9, weight: 2, color: p.done ? "#2e7d32" : "#b71c1c",
                                       fillOpacity: 0.6, className: "gz-obstacle" })
        .bindTooltip(p.name).addTo(layer);
    });
    if (bounds) map.fitBounds(bounds, { maxZoom: 17 });
    map.on("click", function (e) {
      picked = e.latlng;
      if (!pin) pin = L.marker(e.latlng, { draggable: true, title: mapEl.dataset.textPin }).addTo(map);
      else pin.setLatLng(e.latlng);
      pin.on("dragend", function () { picked = pin.getLatLng(); });
      var where = document.getElementById("finding-place");
      if (where) where.textContent = where.dataset.textSet;
    });
  }

  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { refreshStatus(); });
  window.setInterval(flush, 30000);
  flush();
})();
