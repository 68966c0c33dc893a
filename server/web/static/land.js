// The land bureau's page: plan editions, a year's land-demand parcels with their verdicts, checks,
// submission, approval batches, imports and downloads.  Every action goes through /api/v1/land.
"use strict";

(() => {
  const S = Sitewatch;
  const $ = S.$;
  // Verdict code -> [label, colour], from the server (the maps' own table), filled in at start.
  const VERDICTS = {};
  const STATUSES = { draft: "草稿", submitted: "已提交", in_batch: "报批中", approved: "已批准" };
  const CONSTRUCTION = { new: "新增建设用地", stock: "存量建设用地" };
  const LAYERS = { farmland: "永久基本农田", redline: "生态保护红线", urban_boundary: "城镇开发边界", landuse: "用地用海分类" };

  const state = { me: null, parcels: [], selected: new Set(), manage: false };
  const mu = (value) => Number(value).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const ha = (value) => Number(value).toLocaleString("zh-CN", { minimumFractionDigits: 4, maximumFractionDigits: 4 });
  const verdictOf = (parcel) => (parcel.check ? parcel.check.verdict : "unchecked");
  const year = () => Number($("#year").value);

  function say(text) {
    $("#page-error").textContent = "";
    $("#page-error").classList.remove("error");
    $("#land-status").textContent = text;
  }

  function fail(error) {
    $("#land-status").textContent = "";
    S.showError($("#page-error"), error);
    const issues = error && error.problem && (error.problem.issues || error.problem.errors);
    if (issues && issues.length) {
      const list = S.el("ul", { class: "issues" });
      for (const issue of issues.slice(0, 20)) {
        const text = issue.message || issue.code || "";
        const where = issue.line && !text.includes(`第 ${issue.line} 行`) ? `第 ${issue.line} 行：` : "";
        list.append(S.el("li", {}, where + text));
      }
      $("#page-error").append(list);
    }
  }

  // Buttons stay disabled while their request runs (a second click would send it twice).
  async function busy(button, work) {
    button.disabled = true;
    try { await work(); } catch (error) { fail(error); } finally { button.disabled = false; }
  }

  async function loadEdition() {
    // Units and townships see their own projects only, not the county's plan layers.
    if (state.me.role === "project_unit" || state.me.role === "township") {
      $("#edition-card").hidden = true;
      return;
    }
    let editions;
    try {
      editions = await S.api("/land/editions");
    } catch (error) {
      if (error.status !== 403) throw error;
      $("#edition-card").hidden = true;  // the plan itself is for the roles that see the whole county
      return;
    }
    const target = $("#edition");
    if (!editions.length) {
      target.textContent = "尚未导入规划版本：地块只记录，不核查。";
      return;
    }
    const latest = editions[0];
    const layers = latest.report && latest.report.layers ? latest.report.layers : {};
    const counts = Object.entries(layers).map(([layer, n]) => `${LAYERS[layer] || layer} ${n}`).join("，");
    target.replaceChildren(
      "当前版本：", S.el("strong", { id: "edition-name" }, latest.name),
      `（${new Date(latest.created_at).toLocaleString("zh-CN")} 导入${counts ? "；" + counts + " 个图斑" : ""}）`);
    // Every edition is kept (each check records the one it used): the history, newest first.
    const rows = editions.map((e) => {
      const report = e.report || {};
      return S.el("tr", { "data-edition": e.id },
        S.el("td", {}, `#${e.id}`), S.el("td", {}, e.name),
        S.el("td", {}, new Date(e.created_at).toLocaleString("zh-CN")),
        S.el("td", { class: "num" }, report.features ?? "—"), S.el("td", { class: "num" }, report.repaired ?? "—"),
        S.el("td", { class: "num" }, report.rechecked_parcels ?? "—"));
    });
    const history = S.el("details", { id: "edition-history" },
      S.el("summary", {}, `全部版本（${editions.length} 个，均保留）`),
      S.el("table", {}, S.el("thead", {}, S.el("tr", {}, ...["版本", "名称", "导入时间", "图斑", "修复几何", "复核地块"].map(
        (h, i) => S.el("th", { class: i >= 3 ? "num" : null }, h)))), S.el("tbody", {}, ...rows)));
    target.append(history);
  }

  async function loadYears() {
    const years = await S.api("/land/years");
    const select = $("#year");
    const next = new Date().getFullYear() + 1;
    const known = new Set(years.map((y) => y.year));
    const options = [...years];
    if (!known.has(next)) options.unshift({ year: next, parcels: 0 });
    options.sort((a, b) => b.year - a.year);
    select.replaceChildren(...options.map((y) => S.el("option", { value: y.year }, `${y.year} 年（${y.parcels} 块）`)));
    const wanted = Number(new URLSearchParams(location.search).get("year"));
    const withParcels = years.find((y) => y.year <= next && y.parcels > 0);
    select.value = String(options.some((y) => y.year === wanted) ? wanted : (withParcels ? withParcels.year : next));
  }

  async function loadVerdicts() {
    for (const v of await S.api("/land/verdicts")) VERDICTS[v.code] = [v.label, v.color];
    $("#verdict-filter").append(...Object.entries(VERDICTS).map(([code, [label]]) => S.el("option", { value: code }, label)));
  }

  async function loadProjects() {
    const page = await S.api("/projects?page_size=500");
    $("#parcel-project").replaceChildren(
      ...page.items.map((p) => S.el("option", { value: p.id }, `${p.code} ${p.name}`)));
  }

  function stat(label, value, color) {
    return S.el("div", { class: "stat", style: color ? `border-top-color:${color}` : null },
      S.el("div", { class: "n" }, value), S.el("div", { class: "l" }, label));
  }

  function renderStats(parcels) {
    const count = (v) => parcels.filter((p) => verdictOf(p) === v).length;
    const total = parcels.reduce((sum, p) => sum + p.area_mu, 0);
    $("#stats").replaceChildren(
      stat("地块", parcels.length), stat("面积（亩）", mu(total)),
      ...Object.entries(VERDICTS).map(([code, [label, color]]) => stat(label, count(code), color)),
      stat("逾期提交", parcels.filter((p) => p.submitted_late).length, "#6a1b9a"));
  }

  function reasonsCell(parcel) {
    if (!parcel.check) return S.el("span", { class: "muted" }, "—");
    const reasons = parcel.check.reasons || [];
    if (!reasons.length) return S.el("span", { class: "muted" }, "无冲突");
    const list = S.el("ul", { class: "reasons" });
    for (const reason of reasons) list.append(S.el("li", {}, reason.message));
    return list;
  }

  function renderTable() {
    const filter = $("#verdict-filter").value;
    const rows = state.parcels.filter((p) => !filter || verdictOf(p) === filter);
    const tbody = $("#parcels tbody");
    S.fillTable(tbody, rows.map((p) => {
      const box = S.el("input", { type: "checkbox", "data-id": p.id, "aria-label": `选择 ${p.parcel_code}` });
      box.checked = state.selected.has(p.id);
      box.addEventListener("change", () => {
        if (box.checked) state.selected.add(p.id); else state.selected.delete(p.id);
        renderSelection();
      });
      const [label, color] = VERDICTS[verdictOf(p)];
      const status = p.status === "in_batch" && p.batch_name ? `报批中（${p.batch_name}）` : (STATUSES[p.status] || p.status);
      const submitted = p.submitted_at
        ? S.el("span", {}, new Date(p.submitted_at).toLocaleDateString("zh-CN"),
            p.submitted_late ? S.el("span", { class: "badge late", style: "background:#6a1b9a" }, "逾期") : "")
        : S.el("span", { class: "muted" }, "未提交");
      const detail = p.check
        ? S.el("button", { type: "button", class: "detail", "aria-expanded": "false" }, "明细") : "";
      return [box, p.parcel_code, p.name, `${p.project_code} ${p.project_name}`,
        { value: mu(p.area_mu), class: "num" }, { value: ha(p.area_ha), class: "num" },
        { value: ha(p.ellipsoidal_area_m2 / 10000), class: "num" },
        CONSTRUCTION[p.construction_land] || p.construction_land, status, submitted,
        S.badge(label, color), reasonsCell(p), detail];
    }), "该年度暂无地块");
    const byId = new Map(rows.map((p) => [p.id, p]));
    for (const tr of [...tbody.querySelectorAll("tr")]) {
      const box = tr.querySelector("input[data-id]");
      if (!box) continue;
      const parcel = byId.get(Number(box.dataset.id));
      tr.dataset.parcel = parcel.parcel_code;
      tr.dataset.verdict = verdictOf(parcel);
      tr.dataset.status = parcel.status;
      const button = tr.querySelector("button.detail");
      if (button) button.addEventListener("click", () => toggleDetail(tr, button, parcel));
    }
    renderSelection();
  }

  function overlapTarget(overlap) {
    if (overlap.target === "layer") return LAYERS[overlap.target_ref] || overlap.target_ref;
    if (overlap.target === "landuse_class") return `规划用地分类 ${overlap.target_ref}`;
    if (overlap.target === "parcel") return `其他项目地块 ${overlap.target_ref}`;
    if (overlap.target === "outside") return overlap.target_ref === "county" ? "县界外" : "城镇开发边界外";
    return `${overlap.target} ${overlap.target_ref}`;
  }

  // One parcel's check in full: every overlap (m², 亩, share), slivers marked, and what it was checked against.
  function toggleDetail(tr, button, parcel) {
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("detail-row");
    if (open) {
      tr.nextElementSibling.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    const check = parcel.check;
    const table = S.el("table", { class: "overlaps" },
      S.el("thead", {}, S.el("tr", {}, ...["叠加对象", "面积（平方米）", "面积（亩）", "占地块比例", ""].map(
        (h, i) => S.el("th", { class: i && i < 4 ? "num" : null }, h)))));
    const body = S.el("tbody");
    for (const o of check.overlaps) {
      body.append(S.el("tr", { class: o.is_sliver ? "sliver" : null },
        S.el("td", {}, overlapTarget(o)),
        S.el("td", { class: "num" }, Number(o.area_m2).toLocaleString("zh-CN", { maximumFractionDigits: 2 })),
        S.el("td", { class: "num" }, mu(o.area_mu)),
        S.el("td", { class: "num" }, `${(o.share * 100).toFixed(1)}%`),
        S.el("td", { class: "muted" }, o.is_sliver ? `碎片（< ${check.sliver_m2} 平方米，不计冲突）` : "")));
    }
    if (!check.overlaps.length) body.append(S.el("tr", {}, S.el("td", { colspan: 5, class: "empty" }, "与规划图层无叠加")));
    table.append(body);
    const declared = parcel.declared_area_ha === null ? "" :
      `；申报面积 ${ha(parcel.declared_area_ha)} 公顷（计算 ${ha(parcel.area_ha)} 公顷）`;
    const info = S.el("p", { class: "muted" },
      `核查时间 ${new Date(check.checked_at).toLocaleString("zh-CN")}，规划版本 #${check.edition_id ?? "—"}`
      + `，${parcel.zone} 带${declared}`);
    const cell = S.el("td", { colspan: tr.children.length }, info, table);
    tr.after(S.el("tr", { class: "detail-row", "data-detail": parcel.parcel_code }, cell));
    button.setAttribute("aria-expanded", "true");
  }

  function renderSelection() {
    const visible = [...document.querySelectorAll("#parcels tbody input[data-id]")];
    const all = $("#select-all");
    all.checked = visible.length > 0 && visible.every((box) => box.checked);
    $("#selected-count").textContent = state.selected.size ? `已选 ${state.selected.size} 块` : "未选择地块";
  }

  function renderBatches() {
    const batches = new Map();
    for (const p of state.parcels) {
      if (!p.batch_id) continue;
      const entry = batches.get(p.batch_id) || { id: p.batch_id, name: p.batch_name, parcels: 0, mu: 0, open: false };
      entry.parcels += 1;
      entry.mu += p.area_mu;
      entry.open = entry.open || p.status === "in_batch";
      batches.set(p.batch_id, entry);
    }
    S.fillTable($("#batches tbody"), [...batches.values()].map((b) => {
      let action = "";
      if (b.open && state.manage) {
        action = S.el("button", { type: "button", class: "approve", "data-batch": b.id }, "记录批准");
        action.addEventListener("click", () => busy(action, async () => {
          await S.post(`/land/batches/${b.id}/approve`);
          await loadParcels();
          say(`${b.name} 已记录批准。`);
        }));
      }
      return [b.name, { value: b.parcels, class: "num" }, { value: mu(b.mu), class: "num" },
        b.open ? "报批中" : "已批准", action];
    }), "该年度暂无报批批次");
  }

  async function loadParcels() {
    state.parcels = await S.api(`/land/parcels?year=${year()}`);
    const ids = new Set(state.parcels.map((p) => p.id));
    for (const id of [...state.selected]) if (!ids.has(id)) state.selected.delete(id);
    renderStats(state.parcels);
    renderTable();
    renderBatches();
    document.body.dataset.loaded = "1";
  }

  function selectedIds() {
    if (!state.selected.size) throw new Error("请先在表中勾选地块。");
    return [...state.selected];
  }

  function summarise(parcels) {
    const n = (v) => parcels.filter((p) => verdictOf(p) === v).length;
    return `${parcels.length} 块：符合规划 ${n("compliant")}，需调整 ${n("needs_adjustment")}，不能报批 ${n("blocked")}`;
  }

  function wireActions() {
    $("#year").addEventListener("change", () => {
      state.selected.clear();
      $("#parcel-year").value = String(year());
      history.replaceState(null, "", `?year=${year()}`);
      loadParcels().catch(fail);
    });
    $("#verdict-filter").addEventListener("change", renderTable);
    $("#select-all").addEventListener("change", (event) => {
      for (const box of document.querySelectorAll("#parcels tbody input[data-id]")) {
        box.checked = event.target.checked;
        if (box.checked) state.selected.add(Number(box.dataset.id)); else state.selected.delete(Number(box.dataset.id));
      }
      renderSelection();
    });
    $("#check-year").addEventListener("click", (e) => busy(e.target, async () => {
      say("正在核查……");
      const checked = await S.post("/land/checks", { json: { year: year() } });
      await loadParcels();
      say(`已按最新规划版本核查 ${summarise(checked)}。`);
    }));
    $("#check-selected").addEventListener("click", (e) => busy(e.target, async () => {
      const checked = await S.post("/land/checks", { json: { parcel_ids: selectedIds() } });
      await loadParcels();
      say(`已核查 ${summarise(checked)}。`);
    }));
    $("#submit-selected").addEventListener("click", (e) => busy(e.target, async () => {
      const submitted = await S.post("/land/parcels/submit", { json: { parcel_ids: selectedIds() } });
      const late = submitted.filter((p) => p.submitted_late).length;
      state.selected.clear();
      await loadParcels();
      say(`已提交 ${submitted.length} 块${late ? `，其中 ${late} 块晚于截止日期（逾期）` : ""}。`);
    }));
    $("#batch-selected").addEventListener("click", (e) => busy(e.target, async () => {
      const name = $("#batch-name").value.trim();
      const batch = await S.post("/land/batches", {
        json: { year: year(), parcel_ids: selectedIds(), ...(name ? { name } : {}) } });
      state.selected.clear();
      $("#batch-name").value = "";
      await loadParcels();
      say(`已组成 ${batch.name}（${batch.parcel_ids.length} 块）。`);
    }));
    const files = {
      "#dl-xlsx": () => [`/land/report.xlsx?year=${year()}`, `用地核查_${year()}.xlsx`],
      "#dl-overlaps": () => [`/land/report.geojson?year=${year()}`, `重叠图斑_${year()}.geojson`],
      "#dl-txt": () => [`/land/export.txt?year=${year()}`, `界址点_${year()}.txt`],
      "#dl-export": () => {
        const format = $("#export-format").value;
        const suffix = { geojson: "geojson", gpkg: "gpkg", shp: "zip" }[format];
        return [`/land/parcels/export?year=${year()}&format=${format}`, `用地需求_${year()}.${suffix}`];
      },
    };
    for (const [selector, target] of Object.entries(files)) {
      $(selector).addEventListener("click", (e) => busy(e.target, async () => {
        const [path, filename] = target();
        await S.download(path, filename);
        say(`已下载 ${filename}。`);
      }));
    }
    $("#parcel-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      busy(event.target.querySelector("button"), async () => {
        const result = await S.post("/land/parcels/import", { form });
        const box = $("#import-result");
        const into = Number(form.get("year"));
        box.replaceChildren(S.el("p", {}, `已导入 ${result.created.length} 块到 ${into} 年度：`
          + result.created.map((p) => p.parcel_code).join("、")));
        if (result.warnings.length) {
          const list = S.el("ul", { class: "issues" });
          for (const w of result.warnings) {
            const where = w.line && !String(w.message).includes(`第 ${w.line} 行`) ? `第 ${w.line} 行：` : "";
            list.append(S.el("li", {}, where + w.message));
          }
          box.append(S.el("p", {}, "提示："), list);
        }
        event.target.reset();
        await loadYears();
        $("#year").value = String(into);
        $("#parcel-year").value = String(into);
        history.replaceState(null, "", `?year=${into}`);
        await loadParcels();
        say(`导入完成：${summarise(result.created)}。`);
      });
    });
    $("#edition-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      busy(event.target.querySelector("button"), async () => {
        say("正在导入规划版本并复核地块，可能需要几分钟……");
        const edition = await S.post("/land/editions", { form });
        event.target.reset();
        await loadEdition();
        await loadParcels();
        say(`规划版本“${edition.name}”已导入：${edition.report.features} 个图斑，修复 ${edition.report.repaired} 个无效几何，`
          + `复核 ${edition.report.rechecked_parcels} 块地块。`);
      });
    });
  }

  async function main() {
    const me = await S.start();
    if (!me) return;
    state.me = me;
    state.manage = me.role === "land_bureau" || me.role === "admin";
    // Leaders and inspectors read; the bureau, admin and the projects' units and townships file demand.
    const files = state.manage || me.role === "project_unit" || me.role === "township";
    for (const node of document.querySelectorAll(".manage")) node.hidden = !state.manage;
    $("#submit-selected").hidden = !files;
    $("#import-card").hidden = !files;
    $("#edition-form").hidden = !state.manage;
    wireActions();
    try {
      await Promise.all([loadVerdicts(), loadEdition(), loadYears(), loadProjects()]);
      $("#parcel-year").value = String(year());
      await loadParcels();
    } catch (error) {
      fail(error);
    }
  }

  main();
})();
