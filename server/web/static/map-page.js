// The county progress map page: filters in the query string, the map (folium, rendered by the server for
// the signed-in user) fetched with the login and shown in a frame, and the printable PNG.
"use strict";

(() => {
  const S = Sitewatch;
  const FIELDS = ["township_id", "industry", "category", "leader_id", "progress_status"];
  const form = S.$("#map-filters");
  const status = S.$("#map-status");
  const frame = S.$("#map-frame");

  function option(select, value, text) { select.add(new Option(text, value)); }

  function currentQuery() {
    const params = new URLSearchParams();
    for (const name of FIELDS) {
      const value = form.elements[name].value;
      if (value) params.set(name, value);
    }
    return params;
  }

  async function loadChoices() {
    const c = await S.api("/map/filters");
    for (const t of c.townships) option(form.elements.township_id, t.id, t.name);
    for (const i of c.industries) option(form.elements.industry, i, i);
    for (const k of c.categories) option(form.elements.category, k.code, k.label);
    for (const l of c.leaders) option(form.elements.leader_id, l.id, l.title ? `${l.full_name}（${l.title}）` : l.full_name);
    for (const s of c.statuses) option(form.elements.progress_status, s.code, s.label);
    S.$("#basemap-note").textContent = `底图：${c.basemap.label}`;
  }

  function applyQueryString() {
    const params = new URLSearchParams(location.search);
    for (const name of FIELDS) {
      const value = params.get(name);
      if (value === null) continue;
      const select = form.elements[name];
      if (![...select.options].some((o) => o.value === value)) option(select, value, value);
      select.value = value;
    }
  }

  async function loadMap() {
    const params = currentQuery();
    status.classList.remove("error");
    status.textContent = "正在加载地图…";
    try {
      const html = await S.apiText(`/map/county.html?${params}`);
      frame.addEventListener("load", () => { status.textContent = ""; frame.dataset.loaded = "1"; }, { once: true });
      // srcdoc keeps the page's origin, so the map's /vendor assets and its login token both work.
      frame.srcdoc = html;
    } catch (e) {
      S.showError(status, e);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = currentQuery();
    history.replaceState(null, "", params.toString() ? `/map?${params}` : "/map");
    loadMap();
  });
  S.$("#reset").addEventListener("click", () => {
    for (const name of FIELDS) form.elements[name].value = "";
    history.replaceState(null, "", "/map");
    loadMap();
  });
  S.$("#print-png").addEventListener("click", async () => {
    try { await S.download(`/map/county.png?${currentQuery()}`, "清水县重点项目进度图.png"); }
    catch (e) { S.showError(status, e); }
  });

  (async () => {
    const me = await S.start();
    if (!me) return;
    try { await loadChoices(); } catch (e) { S.showError(status, e); return; }
    applyQueryString();
    await loadMap();
  })();
})();
