// The sensing pages: devices on a Leaflet map over the region polygons (no tiles), open alarms with their
// acknowledge button (the alarm API), and an indicator's ECharts line with its threshold bands.
(function () {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const json = window.pageData;
  const el = window.el;
  const STATUS_COLOURS = {online: "#1b7f3b", offline: "#b00020", unknown: "#8a94a6"};
  const STATUS_LABELS = {online: ["在线", "Online"], offline: ["离线", "Offline"], unknown: ["尚未上报", "Not heard yet"]};
  const LEVEL_COLOURS = {blue: "#1f6fd1", yellow: "#d8a300", orange: "#e0661b", red: "#c81e1e"};
  const LEVEL_LABELS = {blue: ["蓝色", "Blue"], yellow: ["黄色", "Yellow"], orange: ["橙色", "Orange"], red: ["红色", "Red"],
    none: ["无", "None"]};
  const label = (table, key) => (table[key] ? T(table[key][0], table[key][1]) : key);

  const localTimes = () => {
    document.querySelectorAll("time.js-time").forEach((node) => { node.textContent = fmtTime(node.getAttribute("datetime")); });
  };

  // --- the map ------------------------------------------------------------------------------------------

  let map = null;
  let alarmLayer = null;

  async function drawMap() {
    const box = $("#sensing-map");
    if (!box || !window.L) return;
    const devices = json("sensing-devices") || [];
    map = L.map(box, {zoomControl: true, attributionControl: false});
    map.setView([36.7, 118.0], 9);
    const params = new URLSearchParams({level: box.dataset.level || "district", limit: "500"});
    if (box.dataset.parent) params.set("parent_code", box.dataset.parent);
    let regionBounds = null;
    try {
      const shapes = await api(`/api/v1/regions/geojson?${params}`);
      const layer = L.geoJSON(shapes, {
        style: {color: "#0b3d91", weight: 1, fillColor: "#dfe7f5", fillOpacity: 0.5},
        onEachFeature: (feature, shape) => shape.bindTooltip(feature.properties.name, {sticky: true}),
      }).addTo(map);
      if (shapes.features.length) regionBounds = layer.getBounds();
    } catch (error) { toast(error.message, "bad"); }
    const markers = L.featureGroup();
    devices.forEach((d) => {
      const marker = L.circleMarker([d.lat, d.lng], {radius: 7, weight: 1, color: "#ffffff", fillOpacity: 0.95,
        fillColor: STATUS_COLOURS[d.status] || STATUS_COLOURS.unknown, className: `device-marker status-${d.status}`});
      const popup = el("div", {},
        el("strong", {text: d.id}), el("br"), `${T(d.type_name, d.type_name_en)} · ${label(STATUS_LABELS, d.status)}`,
        el("br"), d.model || "", el("br"),
        `${T("最近上报", "Last heard")}: ${d.last_seen_at ? fmtTime(d.last_seen_at) : "—"}`);
      marker.bindPopup(popup);
      marker.bindTooltip(`${d.id} · ${label(STATUS_LABELS, d.status)}`);
      markers.addLayer(marker);
    });
    markers.addTo(map);
    alarmLayer = L.layerGroup().addTo(map);
    const bounds = devices.length ? markers.getBounds() : regionBounds;
    if (bounds && bounds.isValid()) map.fitBounds(bounds.pad(0.1));
  }

  // --- alarms -------------------------------------------------------------------------------------------

  async function loadAlarms() {
    const table = $("#alarm-table");
    if (!table) return;
    const names = json("sensing-indicators") || {};
    const body = table.querySelector("tbody");
    try {
      const page = await api("/api/v1/alarms?status=open&limit=200");
      body.replaceChildren();
      if (alarmLayer) alarmLayer.clearLayers();
      $("#alarms-empty").hidden = page.items.length > 0;
      page.items.forEach((a) => {
        const name = names[a.indicator_code];
        const action = el("td");
        if (a.status === "active") {
          const button = el("button", {type: "button", class: "primary ack", "data-alarm": a.id, text: T("确认", "Acknowledge")});
          button.addEventListener("click", () => acknowledge(a.id, button));
          action.append(button);
        } else {
          action.append(el("span", {class: "note", text: `${T("已确认", "Acknowledged")} ${fmtTime(a.acknowledged_at)}`}));
        }
        body.append(el("tr", {id: `alarm-${a.id}`},
          el("td", {}, el("span", {class: `badge ${a.level}`, text: label(LEVEL_LABELS, a.level)})),
          el("td", {}, el("a", {href: `/sensing/indicators/${encodeURIComponent(a.indicator_code)}`,
            text: name ? T(name[0], name[1]) : a.indicator_code})),
          el("td", {}, el("code", {text: a.source_key})), el("td", {class: "num", text: a.value}),
          el("td", {text: a.reason}), el("td", {text: fmtTime(a.raised_at)}), action));
        if (alarmLayer && a.lat !== null && a.lng !== null) {
          L.circleMarker([a.lat, a.lng], {radius: 14, weight: 3, color: LEVEL_COLOURS[a.level] || "#c81e1e", fill: false,
            interactive: false}).addTo(alarmLayer);
        }
      });
    } catch (error) { $("#alarms-error").textContent = error.message; }
  }

  async function acknowledge(id, button) {
    button.disabled = true;
    try {
      await api(`/api/v1/alarms/${id}/acknowledge`, {method: "POST"});
      toast(T("告警已确认", "Alarm acknowledged"));
      await loadAlarms();
    } catch (error) {
      $("#alarms-error").textContent = error.message;
      button.disabled = false;
    }
  }

  // --- an indicator's chart -----------------------------------------------------------------------------

  function drawChart() {
    const box = $("#indicator-chart");
    const data = json("indicator-data");
    if (!box || !data || !window.echarts) return;
    const chart = echarts.init(box, null, {renderer: "canvas"});
    const now = Date.now();
    const areas = data.bands.map((b) => [
      {name: `${T(b.name + "预警", b.level)} ${b.rule}`, yAxis: b.from,
        itemStyle: {color: LEVEL_COLOURS[b.level], opacity: 0.16}, label: {color: LEVEL_COLOURS[b.level]}},
      {yAxis: b.to}]);
    const lines = data.bands.map((b) => ({yAxis: b.line, lineStyle: {color: LEVEL_COLOURS[b.level], type: "dashed"},
      label: {formatter: `${T(b.name, b.level)} ${b.line}`, color: LEVEL_COLOURS[b.level]}}));
    const series = data.series.map((s) => ({
      name: s.device, type: "line", showSymbol: false, sampling: "lttb",
      data: s.points.map((p) => [new Date(p[0]).getTime(), p[1]])}));
    if (!series.length) series.push({name: T("预警区间", "Warning bands"), type: "line", data: []});
    series[0].markArea = {silent: true, label: {position: "insideTopLeft"}, data: areas};
    series[0].markLine = {silent: true, symbol: "none", data: lines};
    const times = data.series.flatMap((s) => s.points.map((p) => new Date(p[0]).getTime()));
    const first = Math.min(now - 24 * 3600 * 1000, ...times);
    const last = Math.max(now, ...times);
    chart.setOption({
      aria: {enabled: true},
      animation: false,
      tooltip: {trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "" : `${v} ${data.unit}`)},
      legend: {type: "scroll", top: 0},
      grid: {left: 56, right: 90, top: 40, bottom: 40},
      xAxis: {type: "time", min: first, max: last},
      yAxis: {type: "value", name: data.unit, min: Math.floor(data.min * 10) / 10, max: Math.ceil(data.max * 10) / 10, scale: true},
      series,
    });
    window.addEventListener("resize", () => chart.resize());
    box.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", () => {
    localTimes();
    drawMap().finally(loadAlarms);
    drawChart();
  });
})();
