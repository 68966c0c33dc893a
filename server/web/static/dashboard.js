// The leaders' dashboard: status counts, monthly investment against the plan, townships and industries,
// the lagging list, a leader's own projects and overdue problems, for the signed-in user's scope.
"use strict";

(() => {
  const S = Sitewatch;
  const charts = {};
  const SCOPES = { county: "全县", township: "本乡镇项目", unit: "本单位项目" };
  const TOP_TOWNSHIPS = 12;

  function link(url, text) { return S.el("a", { href: url }, text); }
  const num = (value) => ({ value, class: "num" });

  function statusCards(data) {
    const box = S.$("#status-cards");
    box.replaceChildren();
    for (const s of data.status_counts) {
      if (!s.count && (s.status === "pending" || s.status === "no_data")) continue;
      box.append(S.el("div", { class: "stat", style: `border-top-color:${s.color}`, "data-status": s.status },
        S.el("div", { class: "n", style: `color:${s.color}` }, s.count),
        S.el("div", { class: "l" }, s.label)));
    }
  }

  function chart(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(S.$("#" + id), config);
  }

  function monthlyChart(data) {
    const months = data.monthly.map((m) => `${Number(m.month.slice(5))}月`);
    const w = (v) => (v === null ? null : Number(v) / 10000);
    chart("monthly-chart", {
      type: "bar",
      data: {
        labels: months,
        datasets: [
          { type: "bar", label: "当月完成", data: data.monthly.map((m) => w(m.completed_yuan)),
            backgroundColor: "rgba(29,78,137,.55)", order: 3 },
          { type: "line", label: "累计完成", data: data.monthly.map((m) => w(m.completed_cumulative_yuan)),
            borderColor: "#2e7d32", backgroundColor: "#2e7d32", tension: 0.2, order: 1 },
          { type: "line", label: "累计计划（序时）", data: data.monthly.map((m) => w(m.planned_cumulative_yuan)),
            borderColor: "#c62828", backgroundColor: "#c62828", borderDash: [6, 4], pointRadius: 0, order: 2 },
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "万元" } } },
        plugins: { legend: { position: "bottom" } } },
    });
  }

  function townshipChart(data) {
    const rows = data.by_township.slice(0, TOP_TOWNSHIPS);
    chart("township-chart", {
      type: "bar",
      data: {
        labels: rows.map((r) => r.name),
        datasets: [
          { label: "年度计划", data: rows.map((r) => Number(r.annual_plan_yuan) / 10000), backgroundColor: "#b0bec5" },
          { label: "累计完成", data: rows.map((r) => Number(r.ytd_completed_yuan) / 10000), backgroundColor: "#1d4e89" },
        ],
      },
      options: { indexAxis: "y", plugins: { legend: { position: "bottom" } },
        scales: { x: { beginAtZero: true, title: { display: true, text: "万元" } } } },
    });
  }

  function breakdownRows(rows) {
    return rows.map((r) => [r.name, num(r.projects), num(r.lagging), num(S.wan(r.annual_plan_yuan)),
      num(S.wan(r.ytd_completed_yuan)), num(S.percent(r.completion_rate))]);
  }

  function render(data) {
    S.$("#title").textContent = data.month ? `重点项目推进总览（${data.month} 调度）` : "重点项目推进总览（尚无月度调度数据）";
    S.$("#scope-note").textContent = `范围：${SCOPES[data.scope] || ""}，${data.year} 年清单共 ${data.projects} 个项目`;
    statusCards(data);
    monthlyChart(data);
    townshipChart(data);
    S.fillTable(S.$("#lagging tbody"), data.lagging.map((r) => [
      link(r.url, r.name), r.township, r.leader, S.badge(r.status_label, r.status_color),
      num(`${S.wan(r.ytd_completed_yuan)} / ${S.wan(r.ytd_expected_yuan)}`)]), "本月没有滞后项目");
    S.fillTable(S.$("#overdue tbody"), data.overdue_problems.map((p) => [
      link(p.url, p.project_name), p.description, p.responsible_unit, p.deadline, num(p.days_overdue)]), "没有逾期问题");
    S.fillTable(S.$("#by-township tbody"), breakdownRows(data.by_township));
    S.fillTable(S.$("#by-industry tbody"), breakdownRows(data.by_industry));
    const mine = S.$("#my-section");
    mine.hidden = data.my_projects === null;
    if (data.my_projects !== null) {
      S.fillTable(S.$("#my-projects tbody"), data.my_projects.map((r) => [
        link(r.url, r.name), r.township, S.badge(r.status_label, r.status_color), num(S.wan(r.annual_plan_yuan)),
        num(S.wan(r.ytd_completed_yuan)), num(S.percent(r.ratio))]), "没有包抓项目");
    }
    const select = S.$("#month");
    if (!select.options.length) {
      for (const m of data.months) select.add(new Option(m, m));
    }
    select.value = data.month || "";
    document.body.dataset.loaded = "1";
  }

  async function load(month) {
    const error = S.$("#dash-error");
    error.textContent = "";
    try {
      render(await S.api(month ? `/dashboard?month=${encodeURIComponent(month)}` : "/dashboard"));
    } catch (e) { S.showError(error, e); }
  }

  S.$("#month").addEventListener("change", (event) => load(event.target.value));
  S.$("#print-png").addEventListener("click", async () => {
    try { await S.download("/map/county.png", "清水县重点项目进度图.png"); }
    catch (e) { S.showError(S.$("#dash-error"), e); }
  });

  (async () => {
    S.chartDefaults();
    if (await S.start()) await load(new URLSearchParams(location.search).get("month"));
  })();
})();
