// Shared by the map, dashboard and project pages: the login token, API calls, labels and the header.
"use strict";

const Sitewatch = (() => {
  const API = "/api/v1";
  const TOKEN_KEY = "sitewatch-token";
  const LABELS = {
    new_start: "计划新开工", continuing: "续建", preparatory: "预备",
    not_started: "未开工", under_construction: "在建", completed: "已竣工", suspended: "停缓建",
    county: "县列重点项目", city_key: "市级重点投资项目", city_major: "市级重大项目", provincial_major: "省级重大项目",
    none: "无", county_registration: "县发改局节能登记", city: "市发改委节能审查", province: "省发改委节能审查",
    reminder: "工作提醒函", push: "工作推进函", supervision: "工作督办函",
  };

  const $ = (sel, root = document) => root.querySelector(sel);
  const label = (code) => LABELS[code] || code || "";
  const token = () => sessionStorage.getItem(TOKEN_KEY);

  function wan(yuan, digits = 2) {
    if (yuan === null || yuan === undefined || yuan === "") return "—";
    return (Number(yuan) / 10000).toLocaleString("zh-CN", { maximumFractionDigits: digits });
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : `${(value * 100).toFixed(0)}%`;
  }

  class ApiError extends Error {
    constructor(problem, status) {
      super(problem && problem.detail ? problem.detail : `请求失败（${status}）`);
      this.problem = problem; this.status = status;
    }
  }

  // GET by default; ``options.json`` is sent as a JSON body, ``options.form`` (FormData) as multipart.
  async function request(path, options = {}) {
    const headers = { "Accept": "application/json, text/html, image/png" };
    if (token()) headers["Authorization"] = "Bearer " + token();
    let body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      body = options.form;
    }
    const response = await fetch(API + path, { method: options.method || (body ? "POST" : "GET"), headers, body });
    if (!response.ok) {
      let problem = null;
      try { problem = await response.json(); } catch (e) { problem = null; }
      if (response.status === 401) sessionStorage.removeItem(TOKEN_KEY);
      throw new ApiError(problem, response.status);
    }
    return response;
  }

  const api = async (path) => (await request(path)).json();
  const apiText = async (path) => (await request(path)).text();
  const apiBlob = async (path) => (await request(path)).blob();
  const post = async (path, options) => (await request(path, { method: "POST", ...options })).json();

  // Photos need the login too: fetch them with the token and hand the <img> a blob URL.
  async function authImage(img, url) {
    try {
      const headers = token() ? { "Authorization": "Bearer " + token() } : {};
      const response = await fetch(url, { headers });
      if (!response.ok) throw new Error(String(response.status));
      img.src = URL.createObjectURL(await response.blob());
    } catch (e) {
      img.alt = "照片暂不可用"; img.classList.add("missing");
    }
  }

  async function download(path, filename) {
    const url = URL.createObjectURL(await apiBlob(path));
    const link = document.createElement("a");
    link.href = url; link.download = filename;
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else if (key === "style") node.setAttribute("style", value);
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function badge(text, color) {
    return el("span", { class: "badge", style: `background:${color}` }, text);
  }

  function fillTable(tbody, rows, empty) {
    tbody.replaceChildren();
    if (!rows.length) {
      const cols = tbody.closest("table").querySelectorAll("thead th").length || 1;
      tbody.append(el("tr", {}, el("td", { colspan: cols, class: "empty" }, empty || "暂无")));
      return;
    }
    for (const cells of rows) {
      const tr = el("tr");
      for (const cell of cells) {
        if (cell instanceof Node) tr.append(el("td", {}, cell));
        else if (cell && typeof cell === "object" && "value" in cell) tr.append(el("td", { class: cell.class || "" }, cell.value));
        else tr.append(el("td", {}, cell === null || cell === undefined ? "" : String(cell)));
      }
      tbody.append(tr);
    }
  }

  function showError(target, error) {
    target.textContent = error && error.message ? error.message : "请求失败";
    target.classList.add("error");
  }

  // The header: who is signed in, or a prompt to sign in on the list page.
  async function start() {
    const gate = $("#need-login");
    const content = $("#content");
    if (!token()) {
      gate.hidden = false; content.hidden = true;
      return null;
    }
    try {
      const me = await api("/auth/me");
      $("#who-name").textContent = `${me.full_name}（${me.unit.name}）`;
      $("#who").hidden = false;
      gate.hidden = true; content.hidden = false;
      $("#logout").addEventListener("click", async () => {
        try { await fetch(API + "/auth/logout", { method: "POST", headers: { "Authorization": "Bearer " + token() } }); }
        finally { sessionStorage.removeItem(TOKEN_KEY); location.href = "/"; }
      });
      return me;
    } catch (e) {
      gate.hidden = false; content.hidden = true;
      return null;
    }
  }

  function chartDefaults() {
    if (!window.Chart) return;
    Chart.defaults.font.family = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
  }

  return { API, TOKEN_KEY, $, label, token, wan, percent, api, apiText, apiBlob, post, authImage,
    download, el, badge, fillTable, showError, start, chartDefaults };
})();
