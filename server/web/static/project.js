// A project's page: the five list items, its map (site, parcels, photos), monthly investment against the
// plan, the photo timeline with before/after pairs, problems, checks and letters.
"use strict";

(() => {
  const S = Sitewatch;
  const match = location.pathname.match(/^\/projects\/(\d+)\/?$/);
  const projectId = match ? match[1] : null;

  function fields(p, summary) {
    const leader = p.leader.title ? `${p.leader.full_name}（${p.leader.title}）` : p.leader.full_name;
    const progress = summary.last_month
      ? `${summary.last_month} 完成 ${S.wan(summary.last_month_completed_yuan)} 万元；累计 ${S.wan(summary.ytd_completed_yuan)} 万元`
        + (summary.ytd_expected_yuan ? `（序时应完成 ${S.wan(summary.ytd_expected_yuan)} 万元）` : "")
      : "尚未填报";
    return [
      ["总投资", `${S.wan(p.total_investment_yuan)} 万元`],
      ["年度计划投资", `${S.wan(p.annual_plan_yuan)} 万元`],
      ["建设内容", p.content],
      ["计划开（复）工时间", p.planned_start],
      ["月投资进度", progress],
      ["形象进度", summary.physical_progress || "—"],
      ["包抓县级领导", leader],
      ["所在乡镇", p.township.name],
      ["项目类别 / 行业", `${S.label(p.category)} / ${p.industry}`],
      ["牵头单位", p.lead_unit.name],
      ["项目法人单位", p.legal_person_unit.name],
      ["建设状态", S.label(p.status)],
      ["最近督查", summary.last_check || "暂无"],
      ["未整改问题", `${summary.open_problems} 个` + (summary.overdue_problems ? `（逾期 ${summary.overdue_problems} 个）` : "")],
    ];
  }

  function chart(data) {
    const c = data.chart;
    S.$("#chart-title").textContent = `${c.year} 年月度投资进度（万元）`;
    const w = (v) => (v === null ? null : Number(v) / 10000);
    new Chart(S.$("#investment-chart"), {
      type: "bar",
      data: {
        labels: c.months.map((m) => `${Number(m.slice(5))}月`),
        datasets: [
          { type: "bar", label: "当月完成", data: c.completed_month_yuan.map(w), backgroundColor: "rgba(29,78,137,.55)", order: 3 },
          { type: "line", label: "累计完成", data: c.completed_cumulative_yuan.map(w), borderColor: "#2e7d32",
            backgroundColor: "#2e7d32", order: 1 },
          { type: "line", label: "累计计划（序时）", data: c.planned_cumulative_yuan.map(w), borderColor: "#c62828",
            backgroundColor: "#c62828", borderDash: [6, 4], pointRadius: 0, order: 2 },
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "万元" } } },
        plugins: { legend: { position: "bottom" } } },
    });
  }

  function shot(photo, caption) {
    const img = S.el("img", { alt: caption, loading: "lazy", "data-photo": photo.id });
    S.authImage(img, photo.thumb_url);
    const when = photo.taken_at.slice(0, 16).replace("T", " ");
    return S.el("figure", {}, img,
      S.el("figcaption", {}, `${caption ? caption + " · " : ""}${when} · `, S.badge(photo.verdict_label, photo.verdict_color)));
  }

  function photos(data) {
    const t = data.timeline;
    const pairs = S.$("#pairs");
    pairs.replaceChildren();
    if (!t.pairs.length) pairs.append(S.el("p", { class: "muted" }, `暂无同一点位（${t.same_spot_m} 米内）的前后对比照片。`));
    for (const p of t.pairs) {
      pairs.append(S.el("div", { class: "pair" },
        S.el("div", { class: "muted" }, `点位 ${p.spot} · 相距 ${p.distance_m} 米 · 间隔 ${p.days_between} 天`),
        S.el("div", { class: "shots" }, shot(p.before, "之前"), shot(p.after, "之后"))));
    }
    const timeline = S.$("#timeline");
    timeline.replaceChildren();
    if (!t.photos.length) timeline.append(S.el("p", { class: "muted" }, "暂无现场照片。"));
    for (const photo of t.photos) timeline.append(shot(photo, photo.spot ? `点位 ${photo.spot}` : "未定位"));
  }

  async function loadMap() {
    const frame = S.$("#project-map");
    try {
      const html = await S.apiText(`/projects/${projectId}/map.html`);
      frame.addEventListener("load", () => { frame.dataset.loaded = "1"; }, { once: true });
      frame.srcdoc = html;
    } catch (e) { S.showError(S.$("#page-error"), e); }
  }

  function render(data) {
    const p = data.project;
    const s = data.summary;
    document.title = `${p.name} · 清水县重点项目监管`;
    S.$("#p-name").textContent = `${p.name}（${p.code}）`;
    S.$("#p-status").replaceChildren(S.badge(`${s.status_label}${s.status_month ? "（" + s.status_month + "）" : ""}`, s.status_color));
    const dl = S.$("#p-fields");
    dl.replaceChildren();
    for (const [k, v] of fields(p, s)) dl.append(S.el("dt", {}, k), S.el("dd", {}, v));
    S.fillTable(S.$("#parcels tbody"), data.parcels.map((x) => [
      S.el("a", { href: `/land?year=${x.year}`, title: "在用地审查页查看" }, `${x.parcel_code} ${x.name}`), x.year, { value: x.area_mu.toFixed(2), class: "num" }, x.status_label,
      S.badge(x.verdict_label, x.verdict_color)]), "暂无用地需求地块");
    S.fillTable(S.$("#problems tbody"), data.problems.map((x) => [
      x.description, x.responsible_unit.name, x.deadline + (x.overdue ? "（已逾期）" : ""), x.status_label]), "暂无问题");
    S.fillTable(S.$("#checks tbody"), data.checks.map((x) => [
      (x.carried_out_at || x.planned_date).slice(0, 10), x.kind_label, x.title, x.status_label]), "暂无督查记录");
    S.fillTable(S.$("#letters tbody"), data.letters.map((x) => [
      x.number, x.title, x.addressee, x.facts, x.deadline || "—", x.status_label]), "暂无函件");
    S.$("#project").hidden = false;
    chart(data);
    photos(data);
    document.body.dataset.loaded = "1";
  }

  S.$("#print-png").addEventListener("click", async () => {
    try { await S.download(`/projects/${projectId}/map.png`, `项目图-${projectId}.png`); }
    catch (e) { S.showError(S.$("#page-error"), e); }
  });

  (async () => {
    S.chartDefaults();
    if (!(await S.start())) return;
    if (!projectId) { S.showError(S.$("#page-error"), new Error("项目地址不正确。")); return; }
    try {
      render(await S.api(`/projects/${projectId}/page`));
      await loadMap();
    } catch (e) { S.showError(S.$("#page-error"), e); }
  })();
})();
