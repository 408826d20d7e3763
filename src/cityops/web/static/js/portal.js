// Citizen portal: the large-text switch without losing what was typed, and the map where a resident taps the
// place of the problem. The forms themselves post to the server, so the portal works without this file too.
(function () {
  "use strict";

  // The header's 大字模式 button is a form post that reloads the page; on the report form that would throw away
  // the text, the chosen photo and the pin. Set the same cookie in the background and switch the class instead.
  function largeTextInPlace() {
    const form = document.querySelector('form[action="/ui/large-text"]');
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      try {
        await fetch("/ui/large-text", {method: "POST", body: new FormData(form), credentials: "same-origin",
                                       redirect: "manual"});
      } catch (_e) { form.submit(); return; }
      const on = document.documentElement.classList.toggle("large");
      if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
      document.dispatchEvent(new CustomEvent("cityops:large-text", {detail: {on}}));
    });
  }

  function focusProblems() {
    const box = document.getElementById("problems");
    if (box) box.focus();
  }

  // The report form's map: district outlines (no tile server), a red dot where the resident tapped.
  window.portalReportMap = function () {
    const element = document.getElementById("map");
    if (!element || !window.L) return;
    const regions = JSON.parse(document.getElementById("portal-regions").textContent || "{}");
    const lngInput = document.getElementById("lng"), latInput = document.getElementById("lat");
    const picked = document.getElementById("picked");
    const map = L.map(element, {zoomSnap: 0.5});
    const outline = L.geoJSON(regions, {
      style: (feature) => ({color: "#0b3d91", weight: 2, fillColor: "#cfe0ff", fillOpacity: 0.35,
                            className: "region region-" + feature.properties.code}),
      onEachFeature: (feature, layer) => layer.bindTooltip(feature.properties.name, {sticky: true}),
    }).addTo(map);
    const bounds = outline.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds); else map.setView([36.8, 118.05], 10);
    let pin = null;

    async function place(latlng, {pan = false} = {}) {
      const lng = latlng.lng.toFixed(6), lat = latlng.lat.toFixed(6);
      lngInput.value = lng; latInput.value = lat;
      if (pin) pin.setLatLng(latlng);
      else pin = L.circleMarker(latlng, {radius: 11, color: "#fff", weight: 3, fillColor: "#c81e1e", fillOpacity: 1})
        .addTo(map);
      if (pan) map.panTo(latlng);
      picked.textContent = T("已选好位置，正在查询所在街道…", "Place chosen; finding the street…");
      try {
        const where = await api(`/api/v1/regions/locate?lng=${lng}&lat=${lat}`);
        const names = (where.path || []).filter((s) => s.level === "district" || s.level === "street")
          .map((s) => s.name);
        picked.textContent = names.length
          ? T("已选好位置：", "Place chosen: ") + names.join(" ")
          : T("这个位置不在本市范围内，请在蓝色区域里点一下。", "This place is outside the city: tap inside the blue area.");
        picked.classList.toggle("error", !names.length);
      } catch (_e) {
        picked.textContent = T("已选好位置", "Place chosen");
      }
    }

    map.on("click", (event) => place(event.latlng));
    document.getElementById("use-centre").addEventListener("click", () => place(map.getCenter()));
    document.getElementById("clear-pin").addEventListener("click", () => {
      if (pin) { map.removeLayer(pin); pin = null; }
      lngInput.value = ""; latInput.value = "";
      picked.textContent = T("还没有在地图上选位置", "No place chosen on the map yet");
      picked.classList.remove("error");
    });
    if (lngInput.value && latInput.value) place(L.latLng(Number(latInput.value), Number(lngInput.value)), {pan: true});
    document.addEventListener("cityops:large-text", () => map.invalidateSize());

    const form = document.getElementById("report-form");
    form.addEventListener("submit", () => {
      const button = document.getElementById("submit");
      // The form id makes a second press harmless; disabling only stops a confusing double wait.
      setTimeout(() => { button.disabled = true; button.textContent = T("正在提交…", "Sending…"); }, 0);
    });
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => { largeTextInPlace(); focusProblems(); });
  } else { largeTextInPlace(); focusProblems(); }
})();
