// The grid worker's phone pages. Everything goes through the JSON API with the session cookie (api() from
// cityops.js): photos to /api/v1/photos, the report to /api/v1/reports on the patrol channel, cases and actions.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const OPEN_STATES = ["received", "registered", "dispatched", "returned", "in_progress", "handled", "reworked", "verified"];
  const BADGE = {handled: "orange", reworked: "red", returned: "yellow", verified: "ok", closed: "ok", followed_up: "ok",
                 dispatched: "blue", in_progress: "blue"};

  const el = window.el;

  function newId() {
    // Sending the same report twice (a retry on a bad connection) is harmless: the id stays until it is accepted.
    const random = window.crypto && crypto.getRandomValues ? Array.from(crypto.getRandomValues(new Uint8Array(12)),
      (b) => b.toString(16).padStart(2, "0")).join("") : String(Math.random()).slice(2);
    return "m-" + Date.now().toString(36) + "-" + random;
  }

  function baseMap(element) {
    L.Icon.Default.imagePath = "/static/vendor/leaflet/images/";
    const map = L.map(element, {zoomSnap: 0.5, tap: true});
    map.setView([36.8, 118.05], 11);
    return map;
  }

  async function outlines(map, query) {
    try {
      const data = await api(`/api/v1/regions/geojson?${query}`);
      const layer = L.geoJSON(data, {style: () => ({color: "#0b3d91", weight: 2, fillColor: "#cfe0ff", fillOpacity: 0.3}),
        onEachFeature: (f, l) => l.bindTooltip(f.properties.name)}).addTo(map);
      layer.bringToBack();
      return layer.getBounds();
    } catch (_e) { return null; }
  }

  // The header's 大字模式 button reloads the page, which would drop a half-written report, its photos and its pin:
  // set the same cookie in the background and switch the class in place.
  function largeTextInPlace() {
    const form = document.querySelector('form[action="/ui/large-text"]');
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await fetch("/ui/large-text", {method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "manual"});
      } catch (_e) { form.submit(); return; }
      const on = document.documentElement.classList.toggle("large");
      const button = form.querySelector("button");
      if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
      document.dispatchEvent(new CustomEvent("cityops:large-text", {detail: {on}}));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", largeTextInPlace);
  else largeTextInPlace();

  // --- 上报 ---------------------------------------------------------------------------------------------------
  window.mobileReport = function (config) {
    const form = $("m-report"), gps = $("m-gps");
    const map = baseMap($("m-map"));
    let marker = null, channelId = newId(), photos = [], located = false;
    const position = {lng: null, lat: null};

    outlines(map, config.grid ? "level=grid&limit=20" : "level=district&limit=50").then((bounds) => {
      if (bounds && bounds.isValid() && !located) map.fitBounds(bounds);
    });

    function setPin(latlng, how) {
      position.lng = Number(latlng.lng.toFixed(6)); position.lat = Number(latlng.lat.toFixed(6));
      if (!marker) {
        marker = L.marker(latlng, {draggable: true, autoPan: true, title: T("问题位置", "Problem location"),
                                   alt: T("问题位置图钉", "Location pin")}).addTo(map);
        marker.on("dragend", () => setPin(marker.getLatLng(), "drag"));
      } else marker.setLatLng(latlng);
      $("m-location-error").textContent = "";
      const where = `${position.lat.toFixed(5)}, ${position.lng.toFixed(5)}`;
      gps.textContent = how === "gps" ? T("GPS 定位：", "GPS: ") + where + T("（可拖动图钉修正）", " (drag the pin to correct)")
        : T("已修正位置：", "Corrected: ") + where;
      locateName();
    }

    async function locateName() {
      try {
        const found = await api(`/api/v1/regions/locate?lng=${position.lng}&lat=${position.lat}`);
        const last = (found.path || []).slice(-1)[0];
        if (last) gps.textContent += " · " + last.name;
      } catch (_e) { /* the name is a help, not a need */ }
    }

    function locate() {
      if (!navigator.geolocation) { gps.textContent = T("此设备不能定位，请点地图选择位置", "No GPS here: tap the map"); return; }
      gps.textContent = T("正在获取 GPS 位置…", "Getting the GPS position…");
      navigator.geolocation.getCurrentPosition((p) => {
        located = true;
        const latlng = L.latLng(p.coords.latitude, p.coords.longitude);
        map.setView(latlng, 15);
        setPin(latlng, "gps");
      }, () => {
        gps.textContent = T("没有拿到 GPS 位置，请点地图选择位置", "No GPS position: tap the map to choose the place");
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
    }
    map.on("click", (event) => setPin(event.latlng, "tap"));
    document.addEventListener("cityops:large-text", () => map.invalidateSize());
    $("m-locate").addEventListener("click", locate);
    locate();

    api("/api/v1/categories?active=true&limit=500").then((page) => {
      const select = $("m-category");
      for (const c of page.items) {
        const name = (CITYOPS.lang === "en" && c.name_en) || c.name;
        select.append(el("option", {value: c.code, text: "\u00a0\u00a0".repeat(Math.max(0, c.level - 1)) + name}));
      }
    }).catch(() => { /* optional: triage classifies without it */ });

    function showPhotos() {
      const list = $("m-photos");
      list.replaceChildren(...photos.map((p, i) => {
        const remove = el("button", {type: "button", class: "m-remove", "aria-label": T("删除第", "Remove photo ") + (i + 1) + T("张照片", "")}, "✕");
        remove.addEventListener("click", () => { photos.splice(i, 1); showPhotos(); });
        return el("li", {}, el("img", {src: p.preview, alt: T("照片 ", "Photo ") + (i + 1)}), remove);
      }));
    }

    $("m-photo").addEventListener("change", async (event) => {
      $("m-photo-error").textContent = "";
      for (const file of Array.from(event.target.files || [])) {
        if (photos.length >= 9) { $("m-photo-error").textContent = T("最多 9 张照片", "At most 9 photos"); break; }
        const data = new FormData();
        data.append("file", file, file.name || "photo.jpg");
        try {
          const stored = await api("/api/v1/photos", {method: "POST", form: data});
          photos.push({id: stored.id, preview: URL.createObjectURL(file)});
          showPhotos();
        } catch (e) { $("m-photo-error").textContent = e.message; }
      }
      event.target.value = "";
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      for (const id of ["m-text-error", "m-location-error", "m-error"]) $(id).textContent = "";
      const text = $("m-text").value.trim();
      let bad = false;
      if (text.length < 2) { $("m-text-error").textContent = T("请写一下问题描述", "Please describe the problem"); bad = true; }
      if (position.lng === null) { $("m-location-error").textContent = T("还没有位置：请定位或点地图", "No location yet: locate or tap the map"); bad = true; }
      if (bad) return;
      const body = {channel: config.channel, channel_report_id: channelId, text, lng: position.lng, lat: position.lat,
                    crs: "wgs84", photos: photos.map((p) => p.id)};
      const category = $("m-category").value;
      if (category) body.category_code = category;
      const button = $("m-submit");
      button.disabled = true;
      try {
        const receipt = await api("/api/v1/reports", {method: "POST", body});
        $("m-tracking").textContent = receipt.id;
        $("m-duplicate").hidden = !receipt.duplicate;
        $("m-report-card").hidden = true; $("m-done").hidden = false;
        $("m-done").scrollIntoView();
        toast(T("已上报", "Reported"));
      } catch (e) {
        const target = e.field === "text" ? "m-text-error" : (e.field === "lng" || e.field === "lat") ? "m-location-error"
          : (e.field || "").startsWith("photos") ? "m-photo-error" : "m-error";
        $(target).textContent = e.message;
      } finally { button.disabled = false; }
    });

    $("m-again").addEventListener("click", () => {
      form.reset(); photos = []; showPhotos(); channelId = newId();
      $("m-done").hidden = true; $("m-report-card").hidden = false;
      map.invalidateSize(); locate();
    });
  };

  // --- 我的网格 -------------------------------------------------------------------------------------------------
  window.mobileCases = async function (config) {
    const list = $("m-list"), filters = $("m-filters");
    let results;
    try {
      // One query per open state: each answer's total is the count the chip shows, exactly as the API counts it.
      results = await Promise.all(OPEN_STATES.map((state) => api(
        `/api/v1/cases?state=${state}&region_code=${encodeURIComponent(config.region)}&limit=50&order=-received_at`)
        .then((page) => ({state, page}))));
    } catch (e) { $("m-error").textContent = e.message; $("m-loading").hidden = true; return; }
    $("m-loading").hidden = true;
    const all = results.flatMap((r) => r.page.items).sort((a, b) => (a.received_at < b.received_at ? 1 : -1));
    const total = results.reduce((sum, r) => sum + r.page.total, 0);
    let chosen = results.some((r) => r.state === "handled" && r.page.total) ? "handled" : "";

    function chip(state, label, count) {
      const button = el("button", {type: "button", class: "m-chip", "aria-pressed": String(chosen === state)},
                        `${label} ${count}`);
      button.addEventListener("click", () => { chosen = state; draw(); });
      return button;
    }

    function draw() {
      filters.replaceChildren(chip("", T("全部", "All"), total),
        ...results.filter((r) => r.page.total).map((r) => chip(r.state, r.state === "handled" ? T("待核查", "To check") : stateLabel(r.state), r.page.total)));
      const shown = chosen ? all.filter((c) => c.state === chosen) : all;
      list.replaceChildren(...shown.map((c) => el("li", {},
        el("a", {href: `/m/cases/${c.id}`, class: "m-item"},
          el("span", {class: "m-item-title", text: c.title}),
          el("span", {class: "m-item-meta"},
            el("span", {class: "badge " + (BADGE[c.state] || ""), text: c.state === "handled" ? T("待核查", "To check") : stateLabel(c.state)}),
            c.overdue ? el("span", {class: "badge overdue", text: T("超期", "Overdue")}) : "",
            el("span", {class: "note", text: ` ${c.number} · ${fmtTime(c.received_at)}`})),
          c.address ? el("span", {class: "note", text: c.address}) : ""))));
      if (!shown.length) list.append(el("li", {class: "note", text: T("没有未办结的案件", "No open cases")}));
    }
    draw();
  };

  // --- 核查 ---------------------------------------------------------------------------------------------------
  window.mobileCase = function (config) {
    let version = null;

    function photoList(target, ids, label) {
      $(target).replaceChildren(...(ids || []).map((id, i) => el("li", {},
        el("a", {href: `/api/v1/photos/${id}`, target: "_blank", rel: "noopener"},
          el("img", {src: `/api/v1/photos/${id}`, alt: label + " " + (i + 1), loading: "lazy"})))));
      if (!(ids || []).length) $(target).append(el("li", {class: "note", text: T("无", "None")}));
    }

    async function load() {
      let detail;
      try { detail = await api(`/api/v1/cases/${config.id}`); }
      catch (e) { $("m-loading").textContent = e.message; return; }
      const c = detail.case;
      version = c.version;
      $("m-loading").hidden = true; $("m-case-body").hidden = false; $("m-case").setAttribute("aria-busy", "false");
      $("m-case-title").textContent = c.title;
      $("m-case-state").textContent = stateLabel(c.state);
      $("m-case-state").className = "badge " + (BADGE[c.state] || "");
      $("m-case-number").textContent = c.number;
      $("m-case-place").textContent = c.address || (c.lat != null ? `${c.lat.toFixed(5)}, ${c.lng.toFixed(5)}` : "—");
      $("m-case-text").textContent = c.description;
      $("m-case-result").textContent = c.result || "—";
      photoList("m-result-photos", c.result_photos, T("处置照片", "Result photo"));
      photoList("m-report-photos", detail.reports.flatMap((r) => r.photos || []), T("上报照片", "Report photo"));
      if (c.department_id) {
        api("/api/v1/departments").then((list) => {
          const d = list.find((x) => x.id === c.department_id);
          if (d) $("m-case-department").textContent = (CITYOPS.lang === "en" && d.name_en) || d.name;
        }).catch(() => {});
      }
      const canCheck = c.state === "handled" && !c.suspended;
      $("m-verify").hidden = !canCheck;
      $("m-no-verify").hidden = canCheck;
      if (!canCheck) $("m-no-verify").textContent = T("此案件当前状态为“", "This case is ") + stateLabel(c.state) + T("”，不需要核查。", "; nothing to check.");
    }

    async function act(action, body, button) {
      button.disabled = true;
      try {
        await api(`/api/v1/cases/${config.id}/actions/${action}`, {method: "POST", body: {...body, expected_version: version}});
        toast(action === "verify" ? T("核查通过", "Verified") : T("已返工", "Sent back for rework"));
        await load();
      } catch (e) {
        (action === "rework" ? $("m-rework-error") : $("m-no-verify")).textContent = e.message;
        $("m-no-verify").hidden = action === "rework";
      } finally { button.disabled = false; }
    }

    $("m-verify-ok").addEventListener("click", (e) => act("verify", {}, e.currentTarget));
    $("m-rework").addEventListener("submit", (e) => {
      e.preventDefault();
      const reason = $("m-rework-reason").value.trim();
      $("m-rework-error").textContent = "";
      if (!reason) { $("m-rework-error").textContent = T("请写明返工原因", "Please say why"); return; }
      act("rework", {reason}, $("m-rework-send"));
    });
    load();
  };
})();
