// Sitewatch back-office page: sign in, browse and filter the key-project list, see a project, report progress.
"use strict";

const API = "/api/v1";
const LABELS = {
  new_start: "计划新开工", continuing: "续建", preparatory: "预备",
  not_started: "未开工", under_construction: "在建", completed: "已竣工", suspended: "停缓建",
  county: "县列重点项目", city_key: "市级重点投资项目", city_major: "市级重大项目", provincial_major: "省级重大项目",
  none: "无", county_registration: "县发改局节能登记", city: "市发改委节能审查", province: "省发改委节能审查",
};
const PAGE_SIZE = 20;
let state = { page: 1, total: 0, me: null };

const $ = (sel) => document.querySelector(sel);
const label = (code) => LABELS[code] || code || "";
const wan = (yuan) => (Number(yuan) / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 2 });

function token() { return sessionStorage.getItem("sitewatch-token"); }

async function api(path, options = {}) {
  const headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  if (options.body && typeof options.body !== "string") {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.body);
  }
  const response = await fetch(API + path, Object.assign({}, options, { headers }));
  if (response.status === 401 && path !== "/auth/login") { signOut(); }
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) { const err = new Error(body && body.detail ? body.detail : "请求失败"); err.problem = body; throw err; }
  return body;
}

function show(view) {
  for (const id of ["login-view", "list-view", "detail-view"]) { $("#" + id).hidden = id !== view; }
}

function signOut() {
  sessionStorage.removeItem("sitewatch-token");
  $("#who").hidden = true;
  show("login-view");
}

async function start() {
  if (!token()) { show("login-view"); return; }
  try { state.me = await api("/auth/me"); } catch (e) { signOut(); return; }
  $("#who-name").textContent = `${state.me.full_name}（${state.me.unit.name}）`;
  $("#who").hidden = false;
  await loadChoices();
  show("list-view");
  await loadList();
}

async function loadChoices() {
  const [towns, leaders] = await Promise.all([api("/townships"), api("/leaders")]);
  const townSelect = $("select[name=township_id]");
  const leaderSelect = $("select[name=leader_id]");
  townSelect.length = 1; leaderSelect.length = 1;
  for (const t of towns) townSelect.add(new Option(t.name, t.id));
  for (const l of leaders) leaderSelect.add(new Option(`${l.full_name}（${l.title || ""}）`, l.id));
}

function filterParams() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData($("#filters"))) { if (value) params.set(key, value); }
  return params;
}

async function loadList() {
  const params = filterParams();
  state.exportQuery = params.toString();
  params.set("page", state.page); params.set("page_size", PAGE_SIZE);
  const data = await api(`/projects?${params}`);
  state.total = data.total;
  const body = $("#projects tbody");
  body.replaceChildren();
  for (const p of data.items) {
    const tr = document.createElement("tr");
    tr.className = "row";
    tr.dataset.id = p.id;
    const cells = [p.code, p.name, p.township.name, label(p.category), wan(p.total_investment_yuan),
      wan(p.annual_plan_yuan), label(p.list_tier), p.leader.full_name, label(p.status)];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i === 4 || i === 5) td.className = "num";
      tr.appendChild(td);
    });
    tr.addEventListener("click", () => openProject(p.id));
    body.appendChild(tr);
  }
  const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
  $("#summary").textContent = `共 ${data.total} 个项目`;
  $("#page").textContent = `第 ${state.page} / ${pages} 页`;
  $("#prev").disabled = state.page <= 1;
  $("#next").disabled = state.page >= pages;
}

async function openProject(id) {
  const [p, progress] = await Promise.all([api(`/projects/${id}`), api(`/projects/${id}/progress`)]);
  $("#d-name").textContent = `${p.name}（${p.code}）`;
  const fields = [
    ["总投资", `${wan(p.total_investment_yuan)} 万元`],
    ["年度计划投资", `${wan(p.annual_plan_yuan)} 万元`],
    ["建设内容", p.content],
    ["计划开（复）工时间", p.planned_start],
    ["项目类别", label(p.category)],
    ["所属行业", p.industry],
    ["所在乡镇", p.township.name],
    ["包抓县级领导", `${p.leader.full_name}（${p.leader.title || ""}）`],
    ["牵头单位", p.lead_unit.name],
    ["责任单位", p.responsible_units.map((u) => u.name).join("、")],
    ["项目法人单位", p.legal_person_unit.name],
    ["清单层级", label(p.list_tier)],
    ["节能审查", label(p.energy_review_level)],
    ["建设状态", label(p.status)],
  ];
  const dl = $("#d-fields");
  dl.replaceChildren();
  for (const [k, v] of fields) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
  const body = $("#progress tbody");
  body.replaceChildren();
  for (const r of progress) {
    const tr = document.createElement("tr");
    for (const [text, cls] of [[r.month, ""], [wan(r.amount_completed_yuan), "num"], [r.physical_progress, ""]]) {
      const td = document.createElement("td"); td.textContent = text; td.className = cls; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  const form = $("#progress-form");
  form.dataset.id = id;
  form.hidden = !["admin", "project_unit", "township"].includes(state.me.role);
  $("#progress-error").textContent = "";
  show("detail-view");
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const result = await api("/auth/login", { method: "POST", body: { username: form.get("username"), password: form.get("password") } });
    sessionStorage.setItem("sitewatch-token", result.access_token);
    $("#login-error").textContent = "";
    await start();
  } catch (e) { $("#login-error").textContent = e.message; }
});

$("#logout").addEventListener("click", async () => {
  try { await api("/auth/logout", { method: "POST" }); } finally { signOut(); }
});
$("#filters").addEventListener("submit", (event) => { event.preventDefault(); state.page = 1; loadList(); });
$("#export").addEventListener("click", async (event) => {
  // The export needs the bearer token, so fetch it and hand the browser a blob to save.
  event.preventDefault();
  const response = await fetch(`${API}/projects/geojson?${state.exportQuery || ""}`,
    { headers: { "Authorization": "Bearer " + token() } });
  if (!response.ok) { $("#summary").textContent = "导出失败，请重新登录后再试。"; return; }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url; link.download = "sitewatch-projects.geojson";
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
});
$("#prev").addEventListener("click", () => { state.page -= 1; loadList(); });
$("#next").addEventListener("click", () => { state.page += 1; loadList(); });
$("#back").addEventListener("click", () => { show("list-view"); loadList(); });
$("#progress-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const id = event.target.dataset.id;
  try {
    await api(`/projects/${id}/progress`, { method: "POST", body: {
      month: form.get("month"), amount_completed_yuan: form.get("amount_completed_yuan"),
      physical_progress: form.get("physical_progress") || "" } });
    event.target.reset();
    await openProject(id);
  } catch (e) { $("#progress-error").textContent = e.message; }
});

start();
