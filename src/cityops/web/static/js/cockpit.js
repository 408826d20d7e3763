// The leader cockpit: the map of the region in view (click to drill down), the KPI cards (live over server-sent
// events), trends and the vital signs. Every figure comes from /api/v1/cockpit/* as the server computed it.
(function () {
  "use strict";
  const STATE_COLOURS = {received: "#9ad0ff", registered: "#6cb8ff", dispatched: "#35a7ff", returned: "#c59bff",
    in_progress: "#2bd5c4", handled: "#7be08a", reworked: "#ffb35c", verified: "#b6f07b"};
  const LEVEL_COLOURS = {blue: "#5ab0ff", yellow: "#ffd84d", orange: "#ff9a3c", red: "#ff3b3b"};
  const OVERDUE = "#ff3b3b";
  const boot = JSON.parse(document.getElementById("cockpit-boot").textContent);
  let path = boot.path;  // [{region_code, region_name, region_level, parent_code}], the city (or own region) first
  let map, regionLayer, caseLayer, clusterLayer, alarmLayer, hotLayer, trendChart, topChart, stream;
  let breakdown = {};
  let generation = 0;  // answers for a region left behind are dropped

  const current = () => path[path.length - 1];
  const q = (code) => "region=" + encodeURIComponent(code);
  const fmt = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("zh-CN"));
  const esc = (s) => String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
    (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

  function setText(id, text) {
    const el = document.getElementById(id);
    if (!el || el.textContent === text) return;
    const had = el.textContent !== "—";
    el.textContent = text;
    if (had) { el.classList.remove("bump"); void el.offsetWidth; el.classList.add("bump"); }
  }

  // --- the cards ------------------------------------------------------------------------------------------------
  function showSummary(s) {
    if (!s || !s.region || s.region.region_code !== current().region_code) return;
    setText("kpi-reports-today", fmt(s.reports_today));
    setText("kpi-open", fmt(s.open_cases));
    setText("kpi-overdue", fmt(s.overdue_cases));
    for (const [key, id] of [["timely_closure", "kpi-timely"], ["satisfaction", "kpi-satisfied"]]) {
      const r = (s.rates || {})[key];
      setText(id, r && r.rate !== null ? (r.rate * 100).toFixed(1) + "%" : "—");
      const sub = document.getElementById(id + "-sub");
      if (sub && r) sub.textContent = `${fmt(r.numerator)} / ${fmt(r.denominator)}`;
    }
    for (const level of ["red", "orange", "yellow", "blue"]) setText("alarm-" + level, fmt((s.alarms || {})[level]));
    document.getElementById("ck-updated").textContent = fmtTime(s.at);
    breakdown = {};
    for (const row of s.breakdown || []) breakdown[row.region_code] = row;
    if (regionLayer) regionLayer.setStyle(regionStyle);
  }

  function connect() {
    if (stream) stream.close();
    const live = document.getElementById("ck-live"), dot = document.getElementById("ck-live-dot");
    stream = new EventSource("/api/v1/cockpit/stream?" + q(current().region_code));
    stream.addEventListener("summary", (e) => {
      live.textContent = T("实时", "Live"); dot.className = "dot on";
      showSummary(JSON.parse(e.data));
    });
    stream.onerror = () => { live.textContent = T("重新连接中…", "Reconnecting…"); dot.className = "dot off"; };
  }

  // --- the map --------------------------------------------------------------------------------------------------
  function regionStyle(feature) {
    const row = breakdown[feature.properties.code];
    const open = row ? row.open_cases : 0, late = row ? row.overdue_cases : 0;
    const heat = Math.min(1, open / 200);
    return {color: late > 0 ? "#ff7b7b" : "#6fb6ff", weight: 2, fillColor: `rgb(${30 + heat * 180}, ${90 - heat * 40}, 160)`,
      fillOpacity: 0.25 + heat * 0.3};
  }

  function setupMap() {
    map = L.map("ck-map", {zoomControl: true, attributionControl: false, minZoom: 5, maxZoom: 18});
    map.createPane("regions").style.zIndex = 350;  // under the cases and alarms, so clicks on a point reach it
    map.setView([36.7, 118.05], 9);
    caseLayer = L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 50, chunkedLoading: true,
      iconCreateFunction: (cluster) => {
        const late = cluster.getAllChildMarkers().some((m) => m.options.overdue);
        const n = cluster.getChildCount();
        return L.divIcon({html: `<div><span>${n}</span></div>`, iconSize: L.point(44, 44),
          className: "marker-cluster " + (late ? "marker-cluster-large" : n > 50 ? "marker-cluster-medium" : "marker-cluster-small")});
      }});
    clusterLayer = L.layerGroup();
    alarmLayer = L.layerGroup();
    hotLayer = L.layerGroup();
    caseLayer.addTo(map); clusterLayer.addTo(map); alarmLayer.addTo(map); hotLayer.addTo(map);
    const layers = {};
    layers[T("案件", "Cases")] = caseLayer;
    layers[T("案件（按网格汇总）", "Cases per grid")] = clusterLayer;
    layers[T("告警", "Alarms")] = alarmLayer;
    layers[T("热点", "Hotspots")] = hotLayer;
    L.control.layers(null, layers, {collapsed: false}).addTo(map);
  }

  async function drawRegions(gen) {
    const here = current();
    let data = await api(`/api/v1/regions/geojson?parent_code=${encodeURIComponent(here.region_code)}&limit=2000`);
    let leaf = false;
    if (!data.features.length && here.parent_code) {  // a grid: show it among its siblings
      data = await api(`/api/v1/regions/geojson?parent_code=${encodeURIComponent(here.parent_code)}&limit=2000`);
      data.features = data.features.filter((f) => f.properties.code === here.region_code);
      leaf = true;
    }
    if (gen !== generation) return;
    if (regionLayer) regionLayer.remove();
    regionLayer = L.geoJSON(data, {
      pane: "regions",
      style: regionStyle,
      onEachFeature: (feature, layer) => {
        const p = feature.properties;
        layer.bindTooltip(() => {
          const row = breakdown[p.code];
          return `<b>${esc(p.name)}</b>` + (row ? `<br>${T("在办", "Open")} ${fmt(row.open_cases)} · ${T("超期", "Overdue")} ${fmt(row.overdue_cases)}` : "");
        }, {sticky: true});
        if (!leaf) layer.on("click", () => drill({region_code: p.code, region_name: p.name, region_level: p.level, parent_code: p.parent_code}));
      },
    }).addTo(map);
    const bounds = regionLayer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, {padding: [10, 10]});
    document.getElementById("ck-map").dataset.regions = String(data.features.length);
    document.getElementById("ck-map").dataset.level = data.features.length ? data.features[0].properties.level : "";
  }

  async function drawCases(gen) {
    const data = await api("/api/v1/cockpit/map?" + q(current().region_code));
    if (gen !== generation) return;
    caseLayer.clearLayers(); clusterLayer.clearLayers(); alarmLayer.clearLayers();
    const markers = data.items.map((c) => L.circleMarker([c.lat, c.lng], {radius: 7, weight: 2, overdue: c.overdue,
      color: c.overdue ? OVERDUE : "#0b1a30", fillColor: c.overdue ? OVERDUE : (STATE_COLOURS[c.state] || "#35a7ff"), fillOpacity: 0.95})
      .bindPopup(`<div class="ck-pop"><b>${esc(c.number)}</b><br>${esc(c.title)}<br>${esc(stateLabel(c.state))}` +
        (c.overdue ? ` · <b style="color:#b00020">${T("超期", "Overdue")}</b>` : "") + "</div>"));
    caseLayer.addLayers(markers);
    for (const g of data.clusters) {
      L.circleMarker([g.lat, g.lng], {radius: 8 + Math.min(24, Math.sqrt(g.count)), weight: 2,
        color: g.overdue ? OVERDUE : "#35a7ff", fillColor: g.overdue ? OVERDUE : "#35a7ff", fillOpacity: 0.45})
        .bindTooltip(`${fmt(g.count)} ${T("件在办", "open")} · ${fmt(g.overdue)} ${T("超期", "overdue")}`).addTo(clusterLayer);
    }
    for (const a of data.alarms) {
      if (a.lat === null || a.lng === null) continue;
      L.circleMarker([a.lat, a.lng], {radius: 10, weight: 3, color: "#fff", fillColor: LEVEL_COLOURS[a.level] || "#5ab0ff", fillOpacity: 1})
        .bindPopup(`<div class="ck-pop"><b>${esc(a.indicator_code)}</b> ${esc(a.value)}<br>${esc(a.reason)}</div>`).addTo(alarmLayer);
    }
    document.getElementById("ck-map").dataset.cases = String(data.items.length + data.clusters.length);
  }

  async function drawHotspots(gen) {
    let data;
    try { data = await api("/api/v1/insight/hotspots?" + q(current().region_code)); } catch (_e) { return; }
    if (gen !== generation) return;
    hotLayer.clearLayers();
    for (const h of data.items || []) {
      if (!h.centre) continue;
      L.circle([h.centre.lat, h.centre.lng], {radius: 500, color: "#ff9a3c", weight: 2, fillOpacity: 0.3})
        .bindTooltip(`${T("热点", "Hotspot")} #${h.rank}: ${fmt(h.count)} ${T("条上报", "reports")}`).addTo(hotLayer);
    }
  }

  // --- trends and vital signs -----------------------------------------------------------------------------------
  const AXIS = {axisLabel: {color: "#c7d5ea", fontSize: 16}, axisLine: {lineStyle: {color: "#4a6a96"}}, splitLine: {lineStyle: {color: "#1f3a64"}}};

  async function drawTrends(gen) {
    const data = await api("/api/v1/cockpit/trends?" + q(current().region_code));
    if (gen !== generation) return;
    trendChart.setOption({grid: {left: 48, right: 12, top: 16, bottom: 28}, tooltip: {trigger: "axis", textStyle: {fontSize: 16}},
      xAxis: {type: "category", data: data.daily.map((d) => d.date.slice(5)), ...AXIS},
      yAxis: {type: "value", minInterval: 1, ...AXIS},
      series: [{type: "line", data: data.daily.map((d) => d.reports), smooth: true, symbolSize: 6,
        lineStyle: {width: 3, color: "#35a7ff"}, itemStyle: {color: "#35a7ff"}, areaStyle: {color: "rgba(53,167,255,.2)"}}]});
    const top = data.top_categories.slice().reverse();
    topChart.setOption({grid: {left: 130, right: 40, top: 8, bottom: 24}, tooltip: {textStyle: {fontSize: 16}},
      xAxis: {type: "value", minInterval: 1, ...AXIS},
      yAxis: {type: "category", data: top.map((c) => c.category_name), ...AXIS,
        axisLabel: {...AXIS.axisLabel, interval: 0}},
      series: [{type: "bar", data: top.map((c) => c.cases), itemStyle: {color: "#ff9a3c"},
        label: {show: true, position: "right", color: "#fff", fontSize: 16}}]});
  }

  async function drawIndicators(gen) {
    const data = await api("/api/v1/cockpit/indicators?" + q(current().region_code));
    if (gen !== generation) return;
    const rows = data.items.map((i) => {
      const name = T(i.name, i.name_en || i.name);
      const value = i.value === null || i.value === undefined ? "—" : `${fmt(i.value)} ${esc(i.unit)}`;
      const label = i.level === "none" ? T("正常", "Normal") : T(i.level_name + "预警", i.level);
      return `<tr data-code="${esc(i.code)}"><td>${esc(name)}</td><td>${value}</td><td><span class="lvl ${esc(i.level)}">${esc(label)}</span></td></tr>`;
    });
    document.getElementById("ck-vitals").innerHTML = rows.join("") ||
      `<tr><td colspan="3">${T("本区域暂无体征指标", "No indicators for this region")}</td></tr>`;
  }

  // --- drilling down and back up --------------------------------------------------------------------------------
  function drawCrumbs() {
    const list = document.getElementById("ck-crumbs");
    list.innerHTML = path.map((p, i) => i === path.length - 1
      ? `<li><span aria-current="location">${esc(p.region_name)}</span></li>`
      : `<li><a href="/cockpit?${q(p.region_code)}" data-index="${i}">${esc(p.region_name)}</a></li>`).join("");
    document.getElementById("ck-region-name").textContent = current().region_name;
  }

  function drill(region) {
    path = path.concat([region]);
    go(true);
  }

  function go(push) {
    generation += 1;
    const gen = generation;
    if (push) history.pushState({path}, "", "/cockpit?" + q(current().region_code));
    drawCrumbs();
    connect();
    const report = (e) => toast(e.message || String(e), "bad");
    api("/api/v1/cockpit/summary?" + q(current().region_code)).then(showSummary).catch(report);
    drawRegions(gen).catch(report);
    drawCases(gen).catch(report);
    drawHotspots(gen);
    drawTrends(gen).catch(report);
    drawIndicators(gen).catch(report);
  }

  function start() {
    setupMap();
    trendChart = echarts.init(document.getElementById("ck-trend"));
    topChart = echarts.init(document.getElementById("ck-top"));
    window.addEventListener("resize", () => { trendChart.resize(); topChart.resize(); map.invalidateSize(); });
    document.getElementById("ck-crumbs").addEventListener("click", (e) => {
      const link = e.target.closest("a[data-index]");
      if (!link) return;
      e.preventDefault();
      path = path.slice(0, Number(link.dataset.index) + 1);
      go(true);
    });
    window.addEventListener("popstate", (e) => { if (e.state && e.state.path) { path = e.state.path; go(false); } });
    history.replaceState({path}, "", location.href);
    // The map, trends and vital signs move slowly: redraw them every minute; the cards are live.
    setInterval(() => { const gen = generation; drawCases(gen).catch(() => {}); drawTrends(gen).catch(() => {});
      drawIndicators(gen).catch(() => {}); }, 60000);
    go(false);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
