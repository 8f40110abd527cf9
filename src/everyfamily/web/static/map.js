/* The map page: a Leaflet choropleth over the dashboard's own JSON API. Progressive
   enhancement: without script, the filter form reloads the page and the table below still
   lists every area's figure with a link to its profile. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var form = document.getElementById("map-filters");
  var options = JSON.parse(document.getElementById("map-options").textContent);
  var values = JSON.parse(document.getElementById("map-values").textContent);
  var highlight = new Set(JSON.parse(el.dataset.highlight || "[]"));
  var NO_DATA = "#d9d9d9";
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix("Leaflet");
  if (options.basemap_url) { L.tileLayer(options.basemap_url, { maxZoom: 18 }).addTo(map); }
  /* the council's own offline basemap (outputs.basemap_path), served by the dashboard */
  var bm = options.basemap;
  if (bm) {
    var bmOpts = { minZoom: 0, maxZoom: 19, minNativeZoom: bm.min_zoom, maxNativeZoom: bm.max_zoom,
                   attribution: bm.attribution ? escapeHtml(bm.attribution) : "", className: "ef-basemap" };
    if (bm.bounds) { bmOpts.bounds = L.latLngBounds([bm.bounds[0], bm.bounds[1]], [bm.bounds[2], bm.bounds[3]]); }
    L.tileLayer(bm.url, bmOpts).addTo(map);
  }
  var FILL = bm || options.basemap_url ? 0.65 : 0.85;
  /* Fixed layer order, bottom to top (Leaflet panes, by z-index): walking-time bands, small
     areas, outlines, barrier and community overlays, centres, labels (tooltip pane, 650). */
  [["ef-bands", 390], ["ef-areas", 400], ["ef-outlines", 420], ["ef-overlays", 430], ["ef-sites", 450]]
    .forEach(function (p) { map.createPane(p[0]).style.zIndex = String(p[1]); });
  map.getPane("ef-outlines").style.pointerEvents = "none";
  var areaLayer = null, currentLevel = null, outlines = {}, wardLabels = L.layerGroup();
  var sitesLayer = L.layerGroup();

  function fetchJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("request failed: " + r.status); } return r.json(); });
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function pct(v) { return v === null || v === undefined ? "not shown" : (100 * v).toFixed(1) + "%"; }
  function count(v) { return v === null || v === undefined ? "suppressed" : v.toLocaleString("en-GB"); }
  function colourOf(code) {
    var a = values.areas[code];
    if (!a || a.class === null || a.class === undefined) { return NO_DATA; }
    return values.classes[a.class].colour;
  }
  function styleOf(feature) {
    var code = feature.properties.area_code, on = highlight.has(code);
    var c = colourOf(code);
    return { fillColor: c, fillOpacity: c === NO_DATA ? 0.55 : FILL,
             color: on ? "#000000" : "#ffffff", weight: on ? 4 : 0.8,
             dashArray: c === NO_DATA && !on ? "3 3" : null };
  }
  function tooltipOf(code, name) {
    var a = values.areas[code];
    if (!a) { return name + ": no data"; }
    var t = "<strong>" + escapeHtml(name) + "</strong><br>" + escapeHtml(values.measure_label) + ": " + pct(a.value);
    if (a.lower !== null && a.lower !== undefined) { t += " (" + pct(a.lower) + " to " + pct(a.upper) + ")"; }
    return t + "<br>" + count(a.numerator) + " of " + count(a.denominator);
  }
  function labelOf(code, name) {
    var a = values.areas[code];
    return name + ": " + values.measure_label + " " + (a ? pct(a.value) : "no data") + ". Press Enter to open the area.";
  }
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (ch) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[ch];
    });
  }
  function drawAreas(level) {
    return fetchJSON("/api/map/geometry/" + encodeURIComponent(level)).then(function (geo) {
      if (areaLayer) { map.removeLayer(areaLayer); }
      areaLayer = L.geoJSON(geo, {
        pane: "ef-areas",
        style: styleOf,
        onEachFeature: function (feature, layer) {
          var code = feature.properties.area_code;
          layer.options.className = "ef-area";
          layer.bindTooltip(function () { return tooltipOf(code, feature.properties.area_name); }, { sticky: true });
          layer.on("click", function () { window.location.href = "/areas/" + encodeURIComponent(code); });
          layer.on("add", function () {
            var p = layer.getElement();
            if (p) {
              p.setAttribute("data-code", code); p.setAttribute("data-colour", colourOf(code));
              /* keyboard: one tab stop for all the areas (a roving tabindex, WAI-ARIA APG);
                 arrow keys move to the next area in that direction, Enter opens it */
              p.setAttribute("tabindex", layer === rover ? "0" : "-1"); p.setAttribute("role", "link");
              p.setAttribute("aria-label", labelOf(code, feature.properties.area_name));
              p.addEventListener("keydown", function (ev) { onAreaKey(ev, layer, code); });
              p.addEventListener("focus", function () { setRover(layer); });
            }
          });
        }
      }).addTo(map);
      currentLevel = level;
      var hl = [];
      areaLayer.eachLayer(function (l) { if (highlight.has(l.feature.properties.area_code)) { hl.push(l); } });
      map.fitBounds((hl.length ? L.featureGroup(hl) : areaLayer).getBounds(), { padding: [12, 12] });
      /* after fitBounds: the first view is what adds the paths to the page */
      rover = null;
      setRover(firstArea());
      bringOutlinesToFront();
      el.setAttribute("data-areas", String(Object.keys(areaLayer._layers).length));
    });
  }
  /* The roving tabindex over the areas: the one with tabindex 0 is the map's single tab
     stop; the first is the highlighted area (a followed finding) or the first by name. */
  var rover = null;
  var KEYS = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
  function byName() {
    var all = [];
    areaLayer.eachLayer(function (l) { all.push(l); });
    all.sort(function (a, b) {
      return String(a.feature.properties.area_name).localeCompare(String(b.feature.properties.area_name));
    });
    return all;
  }
  function firstArea() {
    var all = byName();
    var hl = all.filter(function (l) { return highlight.has(l.feature.properties.area_code); });
    return hl.length ? hl[0] : all[0] || null;
  }
  function setRover(layer) {
    if (rover === layer || !layer) { return; }
    var old = rover && rover.getElement(), now = layer.getElement();
    if (old) { old.setAttribute("tabindex", "-1"); }
    if (now) { now.setAttribute("tabindex", "0"); }
    rover = layer;
  }
  function centreOf(layer) { return map.latLngToContainerPoint(layer.getBounds().getCenter()); }
  /* The nearest area whose centre lies within 60 degrees of the arrow's direction, distance
     weighted by how far off the direction it lies. */
  function neighbour(layer, dx, dy) {
    var c = centreOf(layer), best = null, bestScore = Infinity;
    areaLayer.eachLayer(function (l) {
      if (l === layer) { return; }
      var p = centreOf(l), vx = p.x - c.x, vy = p.y - c.y;
      var along = vx * dx + vy * dy, across = Math.abs(vx * dy - vy * dx);
      if (along <= 0 || across > along * 1.732) { return; }
      var score = along + 2 * across;
      if (score < bestScore) { bestScore = score; best = l; }
    });
    return best;
  }
  function onAreaKey(ev, layer, code) {
    var next = null;
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      window.location.href = "/areas/" + encodeURIComponent(code);
      return;
    }
    if (KEYS[ev.key]) { next = neighbour(layer, KEYS[ev.key][0], KEYS[ev.key][1]); }
    else if (ev.key === "Home" || ev.key === "End") {
      var all = byName();
      next = ev.key === "Home" ? all[0] : all[all.length - 1];
    } else { return; }
    ev.preventDefault(); ev.stopPropagation();
    if (!next) { return; }
    setRover(next);
    next.getElement().focus();
    if (!map.getBounds().contains(next.getBounds().getCenter())) { map.panTo(next.getBounds().getCenter()); }
  }
  /* Overlays and centres stay out of the tab order: the legend describes the overlays and
     the centres page lists the centres, so the areas are the map's only stop. */
  function untabbable(ev) {
    var p = ev.target.getElement && ev.target.getElement();
    if (p) { p.setAttribute("tabindex", "-1"); }
  }
  function restyle() {
    areaLayer.eachLayer(function (l) {
      var code = l.feature.properties.area_code;
      l.setStyle(styleOf(l.feature));
      var p = l.getElement();
      if (p) {
        p.setAttribute("data-colour", colourOf(code));
        p.setAttribute("aria-label", labelOf(code, l.feature.properties.area_name));
      }
    });
  }
  function drawOutlines() {
    var weights = { borough: 3 };  // any other outline level (the first larger level): thin
    return Promise.all(options.outlines.map(function (level) {
      return fetchJSON("/api/map/geometry/" + level).then(function (geo) {
        outlines[level] = L.geoJSON(geo, { interactive: false, pane: "ef-outlines",
          style: { color: "#1b1b1b", weight: weights[level] || 1.2, fill: false, opacity: 0.9, className: "ef-outline" } });
        outlines[level].addTo(map);
        if (level !== "borough") {
          /* a label at the middle of each ward (the first outline level below the borough) */
          outlines[level].eachLayer(function (l) {
            var name = l.feature.properties.area_name;
            if (name) {
              wardLabels.addLayer(L.tooltip({ permanent: true, direction: "center", className: "ef-ward-label",
                interactive: false }).setLatLng(l.getBounds().getCenter()).setContent(escapeHtml(name)));
            }
          });
        }
      });
    }));
  }
  function bringOutlinesToFront() {
    /* the panes keep the order; within a pane, outlines of the borough over the wards */
    Object.keys(outlines).forEach(function (k) { outlines[k].bringToFront(); });
  }
  function drawSites() {
    return fetchJSON("/api/map/sites").then(function (data) {
      data.sites.forEach(function (s) {
        var m = L.circleMarker([s.lat, s.lon], { pane: "ef-sites", radius: 7, color: "#0b0c0c", weight: 3, fillColor: "#ffffff",
          fillOpacity: 1, className: "ef-site" });
        m.bindTooltip(escapeHtml(s.name) + (data.illustrative ? " (illustrative site)" : ""));
        m.on("click", function () { window.location.href = s.url; });
        m.on("add", untabbable);
        sitesLayer.addLayer(m);
      });
      sitesLayer.addTo(map);
      wardLabels.addTo(map);
    });
  }
  /* Overlays from the access stage (reach.gpkg layers access_*): barrier lines and areas cut
     off are shown at once; travel-time bands can be switched on in the layer control. */
  var BAND_COLOURS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
  function overlayStyle(key, feature) {
    var p = feature.properties || {};
    if (key === "access_barriers") {
      return p.finding ? { color: "#000000", weight: 5, opacity: 0.95 }
                       : { color: "#6a3d9a", weight: 3, opacity: 0.9, dashArray: "6 4" };
    }
    if (key === "access_cut_off") { return { color: "#d7191c", weight: 3, fill: false }; }
    if (key === "communities_emerging") {
      return { color: "#e66101", weight: 4, dashArray: "2 6", fillColor: "#e66101", fillOpacity: 0.15 };
    }
    var labels = (overlayBands[key] || []);
    var i = labels.indexOf(p.walk_band);
    return { color: "#ffffff", weight: 0.5, fillOpacity: 0.8,
             fillColor: i < 0 ? NO_DATA : BAND_COLOURS[Math.min(i, BAND_COLOURS.length - 1)] };
  }
  function overlayTooltip(key, p) {
    if (key === "access_barriers") {
      return escapeHtml(p.name) + ": " + p.crossings + " crossings in " + Number(p.length_km).toFixed(1) + " km" +
        (p.finding ? " (reach drops across it)" : " (candidate barrier)") +
        (p.approximate_network ? "<br>Approximate network" : "");
    }
    if (key === "access_cut_off") { return escapeHtml(p.headline || "Area cut off by a barrier"); }
    if (key === "communities_emerging") {
      return escapeHtml(p.area_name || p.area_code) + ": emerging community (" + escapeHtml(p.group) + ")<br>" +
        escapeHtml(p.headline || "");
    }
    return escapeHtml(p.area_name || p.area_code) + ": median walk " + Math.round(p.median_walk_min) +
      " min (band " + escapeHtml(p.walk_band) + ")" + (p.approximate_network ? "<br>Approximate network" : "");
  }
  var overlayBands = {};
  /* The walking-time legend: shown while the layer is on (its colours, band by band). */
  function bandLegend(bands, layer) {
    var box = document.getElementById("legend-bands");
    if (!box || !bands.length) { return; }
    box.innerHTML = "<p class=\"legend-caption\">Median walk to the nearest centre</p><ul class=\"legend-list\">" +
      bands.map(function (b, i) {
        return "<li><span class=\"band-key\" style=\"background:" + BAND_COLOURS[Math.min(i, BAND_COLOURS.length - 1)] +
          "\"></span>" + escapeHtml(b) + " min</li>";
      }).join("") + "</ul>";
    box.hidden = !map.hasLayer(layer);
    map.on("overlayadd overlayremove", function () { box.hidden = !map.hasLayer(layer); });
  }
  function drawOverlays() {
    var list = options.overlays || [];
    if (!list.length) { return Promise.resolve(); }
    var phone = window.matchMedia && window.matchMedia("(max-width: 700px)").matches;
    var control = L.control.layers(null, null, { collapsed: phone }).addTo(map);
    return Promise.all(list.map(function (o) {
      return fetchJSON("/api/map/overlay/" + encodeURIComponent(o.key)).then(function (geo) {
        var bands = [];
        (geo.features || []).forEach(function (f) {
          var b = f.properties && f.properties.walk_band;
          if (b && bands.indexOf(b) < 0) { bands.push(b); }
        });
        bands.sort(function (a, b) { return parseFloat(a) - parseFloat(b); });
        overlayBands[o.key] = bands;
        var layer = L.geoJSON(geo, {
          pane: o.key === "access_time_bands" ? "ef-bands" : "ef-overlays",
          style: function (f) { return overlayStyle(o.key, f); },
          onEachFeature: function (f, l) {
            l.options.className = "ef-overlay ef-" + o.key;
            l.bindTooltip(overlayTooltip(o.key, f.properties || {}), { sticky: true });
            l.on("add", untabbable);
          }
        });
        control.addOverlay(layer, escapeHtml(o.label));
        if (o.key === "access_time_bands") { bandLegend(bands, layer); }
        if (o.key !== "access_time_bands") { layer.addTo(map); }
        el.setAttribute("data-overlays", list.map(function (x) { return x.key; }).join(","));
      });
    }));
  }
  function renderLegend() {
    document.getElementById("legend-caption").textContent =
      values.measure_label + ": " + values.group_label + ", " + values.service_label;
    var ul = document.getElementById("legend-classes");
    ul.innerHTML = "";
    values.classes.forEach(function (c) {
      if (!c.areas) { return; }
      var li = document.createElement("li");
      li.innerHTML = '<span class="swatch" style="background:' + c.colour + '"></span>' +
        Math.round(100 * c.lower) + "% to " + Math.round(100 * c.upper) + "%: " + plural(c.areas, "area") + ", " +
        count(c.children) + " children";
      ul.appendChild(li);
    });
    if (!values.no_data.areas) { return; }
    var nd = document.createElement("li");
    nd.innerHTML = '<span class="swatch nodata"></span>Not shown (suppressed or no data): ' +
      plural(values.no_data.areas, "area") + ", " + count(values.no_data.children) + " children";
    ul.appendChild(nd);
  }
  function renderTable() {
    var table = document.getElementById("table-map");
    if (!table) { return; }
    document.getElementById("cap-map").textContent =
      values.measure_label + ": " + values.group_label + ", " + values.service_label;
    var tbody = table.tBodies[0];
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (h) { return h.textContent.replace(/[\u2195\u25B2\u25BC]/g, "").trim(); });
    var rows = Object.keys(values.areas).map(function (k) { return [k, values.areas[k]]; });
    rows.sort(function (a, b) { return String(a[1].name).localeCompare(String(b[1].name)); });
    tbody.innerHTML = rows.map(function (kv) {
      var a = kv[1];
      function td(i, kind, text, sort) {
        return "<td class=\"k-" + kind + "\" data-label=\"" + escapeHtml(heads[i] || "") + "\"" +
          (sort === null || sort === undefined ? "" : " data-sort=\"" + sort + "\"") + ">" + text + "</td>";
      }
      return "<tr>" + td(0, "text", "<a href=\"/areas/" + encodeURIComponent(kv[0]) + "\">" + escapeHtml(a.name) + "</a>") +
        td(1, "text", escapeHtml(kv[0])) + td(2, "rate", a.value === null ? "–" : pct(a.value), a.value) +
        td(3, "rate", a.lower === null ? "–" : pct(a.lower), a.lower) +
        td(4, "rate", a.upper === null ? "–" : pct(a.upper), a.upper) +
        td(5, "count", count(a.numerator), a.numerator) + td(6, "count", count(a.denominator), a.denominator) + "</tr>";
    }).join("");
  }
  function query() {
    var q = new URLSearchParams();
    ["level", "measure", "dimension", "group", "service"].forEach(function (k) { q.set(k, form.elements[k].value); });
    return q;
  }
  function updateLinks(q) {
    document.querySelectorAll("a[href^='/export/map.']").forEach(function (a) {
      a.href = a.getAttribute("href").split("?")[0] + "?" + q.toString();
    });
    var page = new URLSearchParams(q);
    if (highlight.size) { page.set("highlight", Array.from(highlight).join(",")); }
    history.replaceState(null, "", "/map?" + page.toString());
  }
  function fillGroups() {
    var dim = form.elements.dimension.value, sel = form.elements.group;
    var d = options.dimensions.filter(function (x) { return x.key === dim; })[0];
    sel.innerHTML = "";
    (d ? d.groups : []).forEach(function (g) {
      var o = document.createElement("option"); o.value = g.key; o.textContent = g.label; sel.appendChild(o);
    });
  }
  function refresh(changed) {
    if (changed === "dimension") { fillGroups(); }
    var q = query();
    el.setAttribute("aria-busy", "true");
    return fetchJSON("/api/map/values?" + q.toString()).then(function (v) {
      values = v;
      var level = form.elements.level.value;
      var draw = level !== currentLevel ? drawAreas(level) : Promise.resolve(restyle());
      return draw.then(function () {
        renderLegend(); renderTable(); updateLinks(q);
        el.setAttribute("aria-busy", "false");
        el.setAttribute("data-state", q.toString());
      });
    }).catch(function (err) {
      el.setAttribute("aria-busy", "false");
      document.getElementById("legend-caption").textContent = "The map could not be updated (" + err.message + ").";
    });
  }
  form.addEventListener("change", function (ev) { refresh(ev.target.name); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); refresh(null); });
  drawOutlines()
    .then(function () { return drawAreas(el.dataset.level); })
    .then(drawSites)
    .then(drawOverlays)
    .then(function () { bringOutlinesToFront(); el.setAttribute("data-ready", "true"); })
    .catch(function (err) {
      document.getElementById("legend-caption").textContent = "The map could not be drawn (" + err.message + ").";
    });
})();
