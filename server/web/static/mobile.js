// Sitewatch phone page (/m): sign in, keep projects offline, start an inspection with the phone's location,
// take photos that are stored in IndexedDB at once, and upload them one per request when the network allows.
//
// Storage (IndexedDB "sitewatch-m"): projects, kv (sync time, checks), inspections, photos (metadata, state,
// receipt, small thumbnail) and blobs (the original file, deleted once the server's receipt says received).
// The token and the signed-in user are kept in localStorage.
//
// Test switch: `/m?backoff=fast` (or localStorage "sitewatch-m.backoff" = "fast") makes retry delays
// 0.1 s, 0.2 s, 0.4 s ... capped at 1 s instead of 2 s, 4 s, 8 s ... capped at 60 s.
"use strict";

const API = "/mobile/v1";
const LS = { token: "sitewatch-m.token", user: "sitewatch-m.user", backoff: "sitewatch-m.backoff" };
const LABELS = {
  not_started: "未开工", under_construction: "在建", completed: "已竣工", suspended: "停缓建",
};
const KIND_LABELS = { daily: "日常督查", periodic: "定期督查", special: "专项督查" };
const STATE_LABELS = { queued: "排队中", uploading: "上传中", received: "已接收 ✓", rejected: "被拒收" };
const VERDICT_LABELS = { accepted: "可采信", suspicious: "存疑", unverifiable: "无法核验" };
const FAST = new URLSearchParams(location.search).get("backoff") === "fast"
  || safeLocal(() => localStorage.getItem(LS.backoff)) === "fast";
const BACKOFF = FAST ? { base: 100, cap: 1000 } : { base: 2000, cap: 60000 };
const JSON_TIMEOUT_MS = 30000;
const GEO_TIMEOUT_MS = 20000;

const $ = (sel) => document.querySelector(sel);

function safeLocal(fn) { try { return fn(); } catch (e) { return null; } }

// ---------------------------------------------------------------- small helpers

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

function newId() {
  if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // crypto.randomUUID needs a secure context (HTTPS); getRandomValues does not.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const pad = (n) => String(n).padStart(2, "0");
function fmtTime(value, withDate = true) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}` : t;
}
function localDate(d = new Date()) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
function fmtSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
function fmtFix(fix) {
  if (!fix) return "";
  const acc = fix.accuracy_m != null ? `±${Math.round(fix.accuracy_m)} 米` : "精度未知";
  return `${fix.lat.toFixed(5)}, ${fix.lon.toFixed(5)}（${acc}，${fmtTime(fix.fixed_at, false)}）`;
}
const wan = (yuan) => (Number(yuan) / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 2 });

// ---------------------------------------------------------------- IndexedDB

const DB_NAME = "sitewatch-m";
const DB_VERSION = 1;
let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (!("indexedDB" in window)) { reject(new Error("no indexedDB")); return; }
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore("kv");
        db.createObjectStore("projects", { keyPath: "id" });
        db.createObjectStore("inspections", { keyPath: "id" }).createIndex("project_id", "project_id");
        db.createObjectStore("photos", { keyPath: "photo_id" }).createIndex("inspection_id", "inspection_id");
        db.createObjectStore("blobs", { keyPath: "photo_id" });
      };
      req.onsuccess = () => {
        req.result.onversionchange = () => req.result.close();
        resolve(req.result);
      };
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error("database blocked"));
    });
  }
  return dbPromise;
}

// Run `body(tx)` in one transaction; body must only issue requests (no awaiting other things).
// Resolves with whatever body stored in `out.value` once the transaction has committed.
async function transact(names, mode, body) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(names, mode);
    const out = { value: undefined };
    t.oncomplete = () => resolve(out.value);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new DOMException("事务已中止", "AbortError"));
    try { body(t, out); } catch (e) { try { t.abort(); } catch (_) { /* already finished */ } reject(e); }
  });
}

const idbGet = (store, key) => transact([store], "readonly", (t, out) => {
  t.objectStore(store).get(key).onsuccess = (e) => { out.value = e.target.result; };
});
const idbAll = (store) => transact([store], "readonly", (t, out) => {
  t.objectStore(store).getAll().onsuccess = (e) => { out.value = e.target.result; };
});
const idbPut = (store, value, key) => transact([store], "readwrite", (t) => {
  if (key === undefined) t.objectStore(store).put(value); else t.objectStore(store).put(value, key);
});
// Read-modify-write in one transaction (so concurrent updates never resurrect an old state).
// `fn(record)` returns the new record, or null to leave it alone.
const idbUpdate = (store, key, fn) => transact([store], "readwrite", (t, out) => {
  const os = t.objectStore(store);
  os.get(key).onsuccess = (e) => {
    const current = e.target.result;
    if (!current) return;
    const next = fn(current);
    if (next) { os.put(next); out.value = next; }
  };
});

// ---------------------------------------------------------------- session

function token() { return safeLocal(() => localStorage.getItem(LS.token)); }
function currentUser() { return safeLocal(() => JSON.parse(localStorage.getItem(LS.user) || "null")); }
function username() { const u = currentUser(); return u ? u.username : null; }

class NetError extends Error {}
class AuthError extends Error {}
class HttpError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || `服务器返回 ${status}`);
    this.status = status;
    this.code = (problem && problem.code) || `http_${status}`;
  }
}

// One request with a timeout; throws NetError (no answer), AuthError (401) or HttpError (other 4xx/5xx).
async function call(path, { method = "GET", json, form, timeoutMs = JSON_TIMEOUT_MS, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth && token()) headers.Authorization = "Bearer " + token();
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  let data = null;
  try {
    response = await fetch(API + path, { method, headers, body, signal: controller.signal, cache: "no-store" });
    const text = await response.text();
    if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
  } catch (e) {
    net.failed(e.name === "AbortError" ? "请求超时" : "网络不可用");
    throw new NetError(e.name === "AbortError" ? "请求超时" : "网络不可用");
  } finally {
    clearTimeout(timer);
  }
  net.ok();
  if (response.status === 401 && auth) throw new AuthError((data && data.detail) || "登录已失效");
  if (!response.ok) throw new HttpError(response.status, data);
  return { status: response.status, data };
}

const retryable = (e) => e instanceof NetError || (e instanceof HttpError && (e.status >= 500 || e.status === 408 || e.status === 429));

// ---------------------------------------------------------------- network state / banner

const net = {
  trouble: null, // message of the last failed request, cleared by the next answer
  failed(msg) { this.trouble = msg; renderNet(); },
  ok() { if (this.trouble) { this.trouble = null; renderNet(); } },
};

function renderNet() {
  const offline = !navigator.onLine;
  const banner = $("#net");
  let text = "";
  if (offline) text = "当前离线：照片已保存在本机，联网后自动上传。";
  else if (net.trouble) text = `网络不稳定（${net.trouble}），照片已保存在本机。`;
  if (retry.at && !offline) {
    const s = Math.max(0, Math.ceil((retry.at - Date.now()) / 1000));
    text += ` ${s} 秒后重试。`;
  }
  banner.hidden = !text;
  $("#net-text").textContent = text;
  $("#retry-now").hidden = offline || !retry.at;
}

// ---------------------------------------------------------------- views and routing

const ui = { view: null, loginNote: "", syncNote: null, projectFilter: "", urls: new Map(), liveFix: null, watchId: null };

function showView(id) {
  for (const v of ["login-view", "projects-view", "project-view", "inspection-view"]) $("#" + v).hidden = v !== id;
  ui.view = id;
  if (id === "inspection-view") startWatch(); else stopWatch();
}

function route() {
  const h = location.hash;
  if (!token()) return { name: "login" };
  if (h.startsWith("#i=")) return { name: "inspection", id: decodeURIComponent(h.slice(3)) };
  if (h.startsWith("#p=")) {
    const [pid, check] = h.slice(3).split("&c=");
    return { name: "project", id: Number(pid), check: check !== undefined ? Number(check) : null };
  }
  return { name: "projects" };
}

// Renders run one after another; calls made while one is waiting coalesce into it.
const renderQueue = { chain: Promise.resolve(), waiting: false };
function render() {
  if (renderQueue.waiting) return renderQueue.chain;
  renderQueue.waiting = true;
  renderQueue.chain = renderQueue.chain.then(() => { renderQueue.waiting = false; return renderNow(); });
  return renderQueue.chain;
}

async function renderNow() {
  const r = route();
  renderWho();
  try {
    if (r.name === "login") renderLogin();
    else if (r.name === "projects") await renderProjects();
    else if (r.name === "project") await renderProject(r.id, r.check);
    else if (r.name === "inspection") await renderInspection(r.id);
    await renderCounts();
  } catch (e) {
    showFatal(e);
  }
}

function showFatal(e) {
  const box = $("#fatal");
  box.hidden = false;
  box.textContent = e && e.name === "QuotaExceededError"
    ? "手机存储空间不足，照片未能保存。请清理手机空间后重拍。"
    : `本机存储出错：${(e && e.message) || e}。如在无痕/隐私模式，请改用普通模式打开本页。`;
}

function renderWho() {
  const u = currentUser();
  $("#who").hidden = !token() || !u;
  if (u) $("#who-name").textContent = u.full_name || u.username;
}

function renderLogin() {
  showView("login-view");
  $("#login-note").hidden = !ui.loginNote;
  $("#login-note").textContent = ui.loginNote;
  const u = currentUser();
  const field = $("#login-form input[name=username]");
  if (u && !field.value) field.value = u.username;
}

async function renderProjects() {
  showView("projects-view");
  const [projects, checks, lastSync, inspections, photos] = await Promise.all([
    idbAll("projects"), idbGet("kv", "checks"), idbGet("kv", "last_sync"), idbAll("inspections"), idbAll("photos"),
  ]);
  $("#last-sync").textContent = lastSync ? fmtTime(lastSync.at) : "从未同步";
  renderSyncNote(lastSync);
  // Inspections kept on this phone, newest first (at most 5): handy after a reload or a crash.
  const mine = inspections.filter((i) => i.owner === username()).sort((a, b) => b.created_local - a.created_local);
  const list = $("#inspection-list");
  list.replaceChildren(...mine.slice(0, 5).map((i) => inspectionItem(i, photos)));
  $("#open-inspections").hidden = mine.length === 0;
  // Checks assigned to this inspector (not yet carried out): each lists its projects.
  const byId = new Map(projects.map((p) => [p.id, p]));
  const checkItems = (checks || []).map((c) => {
    const ids = checkProjectIds(c);
    const sub = [KIND_LABELS[c.kind] || c.kind, c.planned_date ? `计划 ${c.planned_date}` : "", `${ids.length} 个项目`];
    return el("li", { class: "check", "data-check": c.id },
      el("div", { class: "check-head" }, el("span", { class: "title", text: c.title || `督查任务 ${c.id}` }),
        el("span", { class: "sub", text: sub.filter(Boolean).join(" · ") })),
      el("ul", { class: "items nested" }, ...ids.map((pid) => {
        const p = byId.get(pid);
        return el("li", {}, el("button", { type: "button", class: "item", "data-id": pid, onclick: () => go(`#p=${pid}&c=${c.id}`) },
          el("span", { class: "title", text: p ? p.name : `项目 ${pid}（请同步）` }),
          el("span", { class: "sub", text: p ? `${p.code} · ${p.township}` : "" })));
      })));
  });
  $("#check-list").replaceChildren(...checkItems);
  $("#checks-card").hidden = checkItems.length === 0;
  // Projects, filtered.
  const q = ui.projectFilter.trim().toLowerCase();
  const shown = projects
    .filter((p) => !q || `${p.name} ${p.code} ${p.township}`.toLowerCase().includes(q))
    .sort((a, b) => String(a.code).localeCompare(String(b.code)));
  $("#project-list").replaceChildren(...shown.map((p) => el("li", {},
    el("button", { type: "button", class: "item", "data-id": p.id, onclick: () => go(`#p=${p.id}`) },
      el("span", { class: "title", text: p.name }, el("span", { class: "tag", text: LABELS[p.status] || p.status })),
      el("span", { class: "sub", text: `${p.code} · ${p.township} · 包抓：${p.leader}` })))));
  $("#project-count").textContent = projects.length ? `（${shown.length}/${projects.length}）` : "";
  $("#no-projects").hidden = projects.length > 0;
}

function checkProjectIds(c) {
  if (Array.isArray(c.project_ids)) return c.project_ids;
  return c.project_id != null ? [c.project_id] : [];
}

// The sync line: the last sync's outcome, and a warning when the phone's clock is off.
function renderSyncNote(lastSync) {
  const note = $("#sync-note");
  const parts = ui.syncNote ? [ui.syncNote.text] : [];
  let warn = ui.syncNote && ui.syncNote.warn;
  if (lastSync && Math.abs(lastSync.skew_ms) > 5 * 60 * 1000) {
    const min = Math.round(Math.abs(lastSync.skew_ms) / 60000);
    parts.push(`手机时间与服务器相差约 ${min} 分钟，请校准手机时间（影响照片时间核验）。`);
    warn = true;
  }
  note.textContent = parts.join(" ");
  note.className = warn ? "small warn" : "small muted";
}

function setSyncNote(text, warn = false) {
  ui.syncNote = text ? { text, warn } : null;
  idbGet("kv", "last_sync").then(renderSyncNote, () => renderSyncNote(null));
}

function inspectionItem(ins, photos) {
  const own = photos.filter((p) => p.inspection_id === ins.id);
  const pending = own.filter((p) => p.state === "queued").length;
  const received = own.filter((p) => p.state === "received").length;
  const sub = `${fmtTime(ins.started_at)} · 待上传 ${pending} 张 · 已接收 ${received} 张`;
  return el("li", {}, el("button", { type: "button", class: "item", onclick: () => go(`#i=${ins.id}`) },
    el("span", { class: "title", text: ins.project_name }), el("span", { class: "sub", text: sub })));
}

async function renderProject(id, checkId) {
  const [project, checks, inspections, photos] = await Promise.all([
    idbGet("projects", id), idbGet("kv", "checks"), idbAll("inspections"), idbAll("photos"),
  ]);
  if (!project) { go("#"); return; }
  showView("project-view");
  $("#p-name").textContent = project.name;
  const lp = project.last_progress;
  const fields = [
    ["项目代码", project.code],
    ["所在乡镇", project.township],
    ["建设状态", LABELS[project.status] || project.status],
    ["包抓领导", project.leader],
    ["项目红线", project.site ? "已下载（用于核验照片位置）" : "未标注"],
    ["最近进度", lp ? `${lp.month}：累计完成 ${wan(lp.amount_completed_yuan)} 万元${lp.physical_progress ? "，" + lp.physical_progress : ""}` : "暂无填报"],
  ];
  $("#p-fields").replaceChildren(...fields.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  const check = checkId !== null ? (checks || []).find((c) => c.id === checkId && checkProjectIds(c).includes(id)) : null;
  $("#p-check").hidden = !check;
  $("#p-check").textContent = check ? `督查任务：${check.title || ""}（${KIND_LABELS[check.kind] || check.kind || ""}）` : "";
  const start = $("#start");
  start.dataset.id = project.id;
  start.dataset.check = check ? String(check.id) : "";
  start.dataset.checkTitle = check ? check.title || "" : "";
  if (!start.dataset.busy) { start.disabled = false; start.textContent = "开始督查"; }
  const mine = inspections.filter((i) => i.project_id === project.id && i.owner === username())
    .sort((a, b) => b.created_local - a.created_local);
  $("#p-inspections").replaceChildren(...mine.map((i) => inspectionItem(i, photos)));
  $("#p-inspections-wrap").hidden = mine.length === 0;
}

async function renderInspection(id) {
  const ins = await idbGet("inspections", id);
  if (!ins) { go("#"); return; }
  showView("inspection-view");
  const view = $("#inspection-view");
  view.dataset.id = ins.id;
  $("#i-name").textContent = ins.project_name;
  $("#i-started").textContent = fmtTime(ins.started_at);
  $("#i-check-dt").hidden = $("#i-check").hidden = !ins.check_title;
  $("#i-check").textContent = ins.check_title || "";
  $("#i-fix").textContent = ins.device_fix ? fmtFix(ins.device_fix) : `无定位：${ins.fix_note || "未获取"}`;
  $("#i-fix").className = ins.device_fix ? "" : "warn";
  renderLiveFix();
  const server = $("#i-server");
  if (ins.error) { server.textContent = `创建失败：${ins.error.message}`; server.className = "error"; }
  else if (ins.created) { server.textContent = "已在服务器创建 ✓"; server.className = "ok"; }
  else { server.textContent = "等待联网后在服务器创建"; server.className = "muted"; }
  if (ins.owner !== username()) {
    server.textContent += `（属于账号 ${ins.owner}，请用该账号登录后上传）`;
  }
  const photos = (await idbAll("photos")).filter((p) => p.inspection_id === id).sort((a, b) => a.added_at - b.added_at);
  const list = $("#photo-list");
  const keep = new Set(photos.map((p) => p.photo_id));
  for (const [pid, entry] of ui.urls) { if (!keep.has(pid)) { URL.revokeObjectURL(entry.url); ui.urls.delete(pid); } }
  const items = [];
  for (const p of photos) items.push(await photoItem(p));
  list.replaceChildren(...items);
  $("#no-photos").hidden = photos.length > 0;
  const pending = photos.filter((p) => p.state === "queued").length;
  const received = photos.filter((p) => p.state === "received").length;
  $("#i-counts").textContent = `共 ${photos.length} 张：待上传 ${pending}，已接收 ${received}`;
}

function renderLiveFix() {
  const node = $("#i-live-fix");
  if (ui.liveFix && ui.liveFix.fix) { node.textContent = fmtFix(ui.liveFix.fix); node.className = ""; }
  else if (ui.liveFix && ui.liveFix.note) { node.textContent = ui.liveFix.note; node.className = "warn"; }
  else { node.textContent = "定位中…"; node.className = "muted"; }
}

// A preview URL: the small thumbnail once made, else the original while it is still on the phone.
async function previewUrl(p) {
  const have = ui.urls.get(p.photo_id);
  if (have && (have.kind === "thumb" || !p.thumb)) return have.url;
  let blob = p.thumb || null;
  let kind = "thumb";
  if (!blob && p.state !== "received") { blob = await loadBlob(p.photo_id); kind = "original"; }
  if (!blob) return have ? have.url : null;
  if (have) URL.revokeObjectURL(have.url);
  const url = URL.createObjectURL(blob);
  ui.urls.set(p.photo_id, { url, kind });
  return url;
}

async function photoItem(p) {
  const state = p.photo_id === uploader.current ? "uploading" : p.state;
  const url = await previewUrl(p);
  const thumb = url
    ? el("img", { class: "thumb", src: url, alt: "照片预览", onerror: (e) => e.target.replaceWith(noPreview(p)) })
    : noPreview(p);
  const meta = el("div", { class: "meta" },
    el("div", { class: "name", text: `${p.name} · ${fmtSize(p.size)}` }),
    el("span", { class: "state", text: STATE_LABELS[state] || state }));
  const receipt = p.receipt;
  if (state === "received" && receipt) {
    if (receipt.verdict) {
      meta.append(el("span", { class: `verdict verdict-${receipt.verdict}`, text: VERDICT_LABELS[receipt.verdict] || receipt.verdict }));
    }
    const reasons = (receipt.reasons || []).filter((r) => r.message);
    if (reasons.length) {
      meta.append(el("ul", { class: "reasons" }, ...reasons.map((r) => el("li", { class: `sev-${r.severity}`, text: r.message }))));
    }
  }
  if (state === "rejected" && p.error) {
    meta.append(el("div", { class: "error", text: `${p.error.code}：${p.error.message}` }));
    meta.append(el("button", { type: "button", class: "remove", onclick: () => removePhoto(p.photo_id) }, "移除"));
  }
  if (state === "queued" && p.owner !== username()) {
    meta.append(el("div", { class: "muted small", text: `属于账号 ${p.owner}` }));
  }
  return el("li", { class: `photo state-${state}`, "data-id": p.photo_id, "data-state": state }, thumb, meta);
}

function noPreview(p) {
  const heic = /hei[cf]/i.test(p.type || "") || /\.hei[cf]$/i.test(p.name || "");
  return el("div", { class: "thumb", text: heic ? "HEIC" : "无预览" });
}

async function renderCounts() {
  const show = !!token();
  $("#queue-bar").hidden = !show;
  if (!show) return;
  const photos = (await idbAll("photos")).filter((p) => p.owner === username());
  const pending = photos.filter((p) => p.state === "queued").length;
  const received = photos.filter((p) => p.state === "received").length;
  const rejected = photos.filter((p) => p.state === "rejected").length;
  $("#count-pending").textContent = pending;
  $("#count-received").textContent = received;
  $("#count-rejected").textContent = rejected;
  $("#rejected-wrap").hidden = rejected === 0;
  let status = "";
  if (uploader.current) status = "上传中…";
  else if (pending && !navigator.onLine) status = "等待网络";
  $("#upload-status").textContent = status;
}

function go(hash) {
  if (location.hash === hash || (hash === "#" && !location.hash)) render();
  else location.hash = hash;
}

// ---------------------------------------------------------------- sign in / out, sync

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const name = String(form.get("username") || "").trim();
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  $("#login-error").textContent = "";
  try {
    const { data } = await call("/login", { method: "POST", json: { username: name, password: form.get("password") }, auth: false });
    const previous = currentUser();
    localStorage.setItem(LS.token, data.access_token);
    localStorage.setItem(LS.user, JSON.stringify({ username: name, full_name: previous && previous.username === name ? previous.full_name : name }));
    if (previous && previous.username !== name) await clearProjects();
    event.target.reset();
    ui.loginNote = "";
    await sync({ quiet: true });
    await render();
    uploader.kick();
  } catch (e) {
    $("#login-error").textContent = e instanceof NetError ? "无法连接服务器，请检查网络后重试。" : e.message;
  } finally {
    button.disabled = false;
  }
}

async function signOut() {
  const photos = (await idbAll("photos")).filter((p) => p.owner === username() && p.state === "queued");
  if (photos.length && !confirm(`还有 ${photos.length} 张照片未上传（已保存在本机）。退出后需重新登录才能继续上传，确定退出？`)) return;
  localStorage.removeItem(LS.token);
  ui.loginNote = "";
  uploader.stop();
  go("#");
}

// The token is no longer valid: ask to sign in again, keeping the queue and the page the user was on.
function needLogin() {
  localStorage.removeItem(LS.token);
  ui.loginNote = "登录已过期，请重新登录。待上传的照片都已保存在本机，登录后自动继续上传。";
  uploader.stop();
  render();
}

async function clearProjects() {
  await transact(["projects", "kv"], "readwrite", (t) => {
    t.objectStore("projects").clear();
    t.objectStore("kv").delete("checks");
    t.objectStore("kv").delete("last_sync");
  });
}

async function sync({ quiet = false } = {}) {
  const button = $("#sync");
  if (!navigator.onLine) {
    if (!quiet) setSyncNote("当前离线，无法同步；显示的是上次同步的数据。", true);
    return;
  }
  button.disabled = true;
  setSyncNote("正在同步…");
  try {
    const { data } = await call("/sync", { timeoutMs: 60000 });
    const skew = Date.parse(data.server_time) - Date.now();
    await transact(["projects", "kv"], "readwrite", (t) => {
      const store = t.objectStore("projects");
      store.clear();
      for (const p of data.projects || []) store.put(p);
      t.objectStore("kv").put(data.checks || [], "checks");
      t.objectStore("kv").put({ at: new Date().toISOString(), server_time: data.server_time, skew_ms: Number.isFinite(skew) ? skew : 0 }, "last_sync");
    });
    const u = currentUser();
    if (u && data.user) localStorage.setItem(LS.user, JSON.stringify({ ...u, full_name: data.user.full_name, role: data.user.role }));
    setSyncNote(`已同步 ${(data.projects || []).length} 个项目。`);
  } catch (e) {
    if (e instanceof AuthError) { setSyncNote(""); needLogin(); return; }
    setSyncNote(e instanceof NetError ? `同步失败（${e.message}），显示的是上次同步的数据。` : `同步失败：${e.message}`, true);
  } finally {
    button.disabled = false;
  }
  if (ui.view === "projects-view") await render(); else renderWho();
}

// ---------------------------------------------------------------- geolocation

function fixFromPosition(pos) {
  const c = pos.coords;
  return {
    lat: c.latitude,
    lon: c.longitude,
    accuracy_m: Number.isFinite(c.accuracy) ? Math.min(100000, Math.round(c.accuracy * 10) / 10) : null,
    fixed_at: new Date(pos.timestamp || Date.now()).toISOString(),
  };
}

function geoErrorText(err) {
  if (!err) return "无法定位";
  if (err.code === 1) return "未获得定位权限（可在浏览器设置中允许本网站定位）";
  if (err.code === 2) return "无法获取位置（请打开手机定位/GPS）";
  if (err.code === 3) return "定位超时";
  return err.message || "无法定位";
}

function geoUnsupported() {
  if (!("geolocation" in navigator)) return "本浏览器不支持定位";
  if (window.isSecureContext === false) return "非 HTTPS 连接，浏览器不允许定位";
  return null;
}

// One fresh fix: { fix } or { fix: null, note }.
function getFix(timeoutMs = GEO_TIMEOUT_MS) {
  const unsupported = geoUnsupported();
  if (unsupported) return Promise.resolve({ fix: null, note: unsupported });
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (pos) => resolve({ fix: fixFromPosition(pos) }),
      (err) => resolve({ fix: null, note: geoErrorText(err) }),
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 0 },
    );
  });
}

// While an inspection is open, keep the latest fix so each photo gets the fix of its moment.
function startWatch() {
  if (ui.watchId !== null) return;
  const unsupported = geoUnsupported();
  if (unsupported) { ui.liveFix = { fix: null, note: unsupported }; renderLiveFix(); return; }
  ui.watchId = navigator.geolocation.watchPosition(
    (pos) => { ui.liveFix = { fix: fixFromPosition(pos), at: Date.now() }; renderLiveFix(); },
    (err) => { if (!ui.liveFix || !ui.liveFix.fix) { ui.liveFix = { fix: null, note: geoErrorText(err) }; renderLiveFix(); } },
    { enableHighAccuracy: true, timeout: 60000, maximumAge: 10000 },
  );
}

function stopWatch() {
  // A fix from another site must never be given to the next inspection's photos.
  if (ui.watchId !== null) { navigator.geolocation.clearWatch(ui.watchId); ui.watchId = null; ui.liveFix = null; }
}

// ---------------------------------------------------------------- inspections and photos

async function startInspection() {
  const button = $("#start");
  const project = await idbGet("projects", Number(button.dataset.id));
  if (!project) return;
  button.disabled = true;
  button.dataset.busy = "1";
  button.textContent = "正在定位…";
  const { fix, note } = await getFix();
  const now = new Date();
  const ins = {
    id: newId(),
    project_id: project.id,
    project_code: project.code,
    project_name: project.name,
    owner: username(),
    started_at: now.toISOString(),
    check_date: localDate(now),
    check_plan_id: button.dataset.check ? Number(button.dataset.check) : null,
    check_title: button.dataset.checkTitle || null,
    device_fix: fix,
    fix_note: fix ? null : note,
    created: false,
    error: null,
    created_local: now.getTime(),
  };
  try {
    await idbPut("inspections", ins);
  } catch (e) {
    showFatal(e);
    return;
  } finally {
    delete button.dataset.busy;
    button.disabled = false;
    button.textContent = "开始督查";
  }
  ui.liveFix = fix ? { fix, at: Date.now() } : null;
  go(`#i=${ins.id}`);
  uploader.kick();
}

// Store the chosen files at once (Blob + metadata in one transaction), then preview, fix and upload.
async function addFiles(input) {
  const files = Array.from(input.files || []);
  const inspectionId = $("#inspection-view").dataset.id;
  $("#photo-error").textContent = "";
  if (!files.length || !inspectionId) return;
  const live = ui.liveFix && ui.liveFix.fix ? ui.liveFix.fix : null;
  const base = Date.now();
  const records = files.map((file, i) => ({
    photo_id: newId(),
    inspection_id: inspectionId,
    owner: username(),
    name: file.name || `photo-${base + i}.jpg`,
    size: file.size,
    type: file.type || "",
    device_fix: live,
    added_at: base + i,
    state: "queued",
    error: null,
    receipt: null,
    thumb: null,
  }));
  try {
    await storeFiles(records, files, false);
  } catch (e) {
    if (e && e.name === "DataCloneError") {
      // Old WebKit cannot keep Blobs in IndexedDB: keep the bytes instead.
      try { await storeFiles(records, files, true); } catch (e2) { reportStoreError(e2); return; }
    } else { reportStoreError(e); return; }
  } finally {
    input.value = "";
  }
  requestPersistence();
  await render();
  uploader.kick();
  refreshFix(records.filter((r) => !r.device_fix).map((r) => r.photo_id));
  makeThumbs(records.map((r) => r.photo_id));
}

async function storeFiles(records, files, asBuffers) {
  const blobs = asBuffers
    ? await Promise.all(files.map(async (f) => ({ buffer: await f.arrayBuffer(), type: f.type })))
    : files.map((f) => ({ blob: f }));
  await transact(["photos", "blobs"], "readwrite", (t) => {
    records.forEach((r, i) => {
      t.objectStore("photos").add(r);
      t.objectStore("blobs").add({ photo_id: r.photo_id, ...blobs[i] });
    });
  });
}

function reportStoreError(e) {
  $("#photo-error").textContent = e && e.name === "QuotaExceededError"
    ? "手机存储空间不足，照片未能保存，请清理空间后重新拍摄。"
    : `照片未能保存在本机：${(e && e.message) || e}`;
}

async function loadBlob(photoId) {
  const rec = await idbGet("blobs", photoId);
  if (!rec) return null;
  return rec.blob || new Blob([rec.buffer], { type: rec.type || "application/octet-stream" });
}

// Photos stored without a fix (none yet at that moment): add the first fresh one if it comes soon.
async function refreshFix(ids) {
  if (!ids.length) return;
  const { fix } = await getFix(15000);
  if (!fix) return;
  for (const id of ids) {
    await idbUpdate("photos", id, (p) => (p.state === "queued" && !p.device_fix ? { ...p, device_fix: fix } : null));
  }
}

// Small JPEG thumbnails (so the list never decodes whole 12 MP photos again); HEIC may not decode.
async function makeThumbs(ids) {
  if (typeof createImageBitmap !== "function") return;
  for (const id of ids) {
    try {
      const blob = await loadBlob(id);
      if (!blob) continue;
      const bitmap = await createImageBitmap(blob, { resizeWidth: 160, resizeQuality: "medium" });
      const canvas = document.createElement("canvas");
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      bitmap.close();
      const thumb = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.7));
      if (thumb) await idbUpdate("photos", id, (p) => ({ ...p, thumb }));
    } catch (e) {
      // Not decodable here (e.g. HEIC in Chrome): the list shows a placeholder.
    }
  }
  if (ui.view === "inspection-view") await render();
}

async function removePhoto(photoId) {
  await transact(["photos", "blobs"], "readwrite", (t) => {
    t.objectStore("photos").delete(photoId);
    t.objectStore("blobs").delete(photoId);
  });
  await render();
}

// Receipts of photos received more than 30 days ago, and inspections left empty, leave the phone.
async function pruneOld() {
  const cutoff = Date.now() - 30 * 24 * 3600 * 1000;
  const [inspections, photos] = await Promise.all([idbAll("inspections"), idbAll("photos")]);
  const old = photos.filter((p) => p.state === "received" && p.added_at < cutoff).map((p) => p.photo_id);
  const gone = new Set(old);
  const keep = new Set(photos.filter((p) => !gone.has(p.photo_id)).map((p) => p.inspection_id));
  const empty = inspections.filter((i) => i.created_local < cutoff && (i.created || i.error) && !keep.has(i.id));
  if (!old.length && !empty.length) return;
  await transact(["photos", "blobs", "inspections"], "readwrite", (t) => {
    for (const id of old) { t.objectStore("photos").delete(id); t.objectStore("blobs").delete(id); }
    for (const i of empty) t.objectStore("inspections").delete(i.id);
  });
}

function requestPersistence() {
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
}

// ---------------------------------------------------------------- uploader

const retry = { attempt: 0, at: null, timer: null, ticker: null };

function clearRetry() {
  clearTimeout(retry.timer);
  clearInterval(retry.ticker);
  retry.timer = retry.ticker = retry.at = null;
}

// Exponential back-off with jitter: base * 2^n capped, then a random point in its upper half.
function backoffDelay(attempt) {
  const ceiling = Math.min(BACKOFF.cap, BACKOFF.base * 2 ** attempt);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

const uploader = {
  running: false,
  again: false,
  current: null,
  stopped: false,

  // Start (or restart after the current step) the queue; safe to call any time.
  kick() {
    this.stopped = false;
    if (this.running) { this.again = true; return; }
    this.run();
  },

  stop() { this.stopped = true; clearRetry(); renderNet(); },

  async run() {
    this.running = true;
    try {
      do { this.again = false; await this.drain(); } while (this.again && !this.stopped);
    } catch (e) {
      showFatal(e);
    } finally {
      this.running = false;
      this.current = null;
    }
  },

  async drain() {
    clearRetry();
    renderNet();
    for (;;) {
      if (this.stopped || !token() || !navigator.onLine) { await renderCounts(); return; }
      const work = await nextWork();
      if (!work) { retry.attempt = 0; await renderCounts(); return; }
      let outcome;
      try {
        outcome = work.photo ? await uploadOne(work.photo, work.ins) : await createOnServer(work.ins);
      } catch (e) {
        if (e instanceof AuthError) { this.current = null; needLogin(); return; }
        if (retryable(e)) {
          this.current = null;
          await refresh();
          this.scheduleRetry();
          return;
        }
        throw e;
      }
      this.current = null;
      if (outcome !== "again") retry.attempt = 0;
      await refresh();
    }
  },

  scheduleRetry() {
    const delay = backoffDelay(retry.attempt);
    retry.attempt = Math.min(retry.attempt + 1, 30);
    retry.at = Date.now() + delay;
    retry.timer = setTimeout(() => { clearRetry(); this.kick(); }, delay);
    retry.ticker = setInterval(renderNet, 1000);
    renderNet();
  },
};

async function refresh() {
  if (ui.view === "inspection-view" || ui.view === "projects-view" || ui.view === "project-view") await render();
  else await renderCounts();
}

// What to send next for the signed-in user: an inspection not yet on the server, else the oldest queued photo.
async function nextWork() {
  const me = username();
  const [inspections, photos] = await Promise.all([idbAll("inspections"), idbAll("photos")]);
  const mine = inspections.filter((i) => i.owner === me && !i.error).sort((a, b) => a.created_local - b.created_local);
  const pendingIns = mine.find((i) => !i.created);
  if (pendingIns) return { ins: pendingIns };
  // Photos whose inspection the server refused cannot go anywhere: mark them so they are not counted as pending.
  const refused = new Map(inspections.filter((i) => i.error).map((i) => [i.id, i.error]));
  for (const p of photos.filter((x) => x.state === "queued" && refused.has(x.inspection_id))) {
    const err = refused.get(p.inspection_id);
    await idbUpdate("photos", p.photo_id, (r) => (r.state === "queued"
      ? { ...r, state: "rejected", error: { code: err.code, message: `督查记录创建失败：${err.message}` } } : null));
  }
  const byId = new Map(mine.map((i) => [i.id, i]));
  const queued = photos.filter((p) => p.state === "queued" && p.owner === me && byId.has(p.inspection_id))
    .sort((a, b) => a.added_at - b.added_at);
  return queued.length ? { photo: queued[0], ins: byId.get(queued[0].inspection_id) } : null;
}

// POST the inspection (idempotent: a retry with the same id answers 200 with the same record).
async function createOnServer(ins) {
  const body = {
    id: ins.id,
    project_id: ins.project_id,
    started_at: ins.started_at,
    check_date: ins.check_date,
    device_fix: ins.device_fix,
    findings: "",
  };
  if (ins.check_plan_id != null) body.check_plan_id = ins.check_plan_id;
  try {
    await call("/inspections", { method: "POST", json: body });
    await idbUpdate("inspections", ins.id, (r) => ({ ...r, created: true, error: null }));
    return "done";
  } catch (e) {
    if (!(e instanceof HttpError) || retryable(e)) throw e;
    // Refused for good (no right to this project, project gone...): say so on the record and its photos.
    const error = { code: e.code, message: e.message };
    await idbUpdate("inspections", ins.id, (r) => ({ ...r, error }));
    const photos = (await idbAll("photos")).filter((p) => p.inspection_id === ins.id && p.state === "queued");
    for (const p of photos) {
      await idbUpdate("photos", p.photo_id, (r) => (r.state === "queued"
        ? { ...r, state: "rejected", error: { code: e.code, message: `督查记录创建失败：${e.message}` } } : null));
    }
    return "done";
  }
}

// Upload one photo (one file per request, small requests suit weak networks) and record its receipt.
async function uploadOne(photo, ins) {
  const blob = await loadBlob(photo.photo_id);
  if (!blob) {
    await idbUpdate("photos", photo.photo_id, (r) => ({
      ...r, state: "rejected", error: { code: "missing_on_phone", message: "照片文件已不在本机，请重新拍摄。" },
    }));
    return "done";
  }
  uploader.current = photo.photo_id;
  await refresh();
  const form = new FormData();
  form.append("meta", JSON.stringify([{ photo_id: photo.photo_id, device_fix: photo.device_fix || null }]));
  form.append("photos", blob, photo.name);
  // At least 60 s, plus time for the bytes at 10 KB/s (a 5 MB photo gets about 9 minutes).
  const timeoutMs = 60000 + Math.ceil(blob.size / 10);
  let receipt;
  try {
    const { data } = await call(`/inspections/${encodeURIComponent(ins.id)}/photos`, { method: "POST", form, timeoutMs });
    receipt = ((data && data.receipts) || []).find((r) => r.photo_id === photo.photo_id);
    if (!receipt) throw new HttpError(500, { detail: "服务器回执缺少该照片", code: "missing_receipt" });
  } catch (e) {
    if (e instanceof HttpError && e.code === "inspection_not_found") {
      // The server does not know the inspection (yet): create it again, then this photo.
      await idbUpdate("inspections", ins.id, (r) => ({ ...r, created: false }));
      if ((photo.not_found_retries || 0) < 3) {
        await idbUpdate("photos", photo.photo_id, (r) => ({ ...r, not_found_retries: (r.not_found_retries || 0) + 1 }));
        return "again";
      }
    }
    if (!(e instanceof HttpError) || retryable(e)) throw e;
    await idbUpdate("photos", photo.photo_id, (r) => ({ ...r, state: "rejected", error: { code: e.code, message: e.message } }));
    return "done";
  }
  const kept = {
    status: receipt.status, received: receipt.received, code: receipt.code, message: receipt.message,
    sha256: receipt.sha256, verdict: receipt.verdict, duplicate_retry: receipt.duplicate_retry,
    reasons: (receipt.reasons || []).map((r) => ({ code: r.code, message: r.message, severity: r.severity })),
    at: new Date().toISOString(),
  };
  if (receipt.received === true) {
    // Received and durable on the server: the original can leave the phone; keep the receipt for the list.
    await transact(["photos", "blobs"], "readwrite", (t) => {
      const os = t.objectStore("photos");
      os.get(photo.photo_id).onsuccess = (e) => {
        if (e.target.result) os.put({ ...e.target.result, state: "received", receipt: kept, error: null });
      };
      t.objectStore("blobs").delete(photo.photo_id);
    });
  } else {
    await idbUpdate("photos", photo.photo_id, (r) => ({
      ...r, state: "rejected", receipt: kept,
      error: { code: receipt.code || "rejected", message: receipt.message || "照片被拒收。" },
    }));
  }
  return "done";
}

// ---------------------------------------------------------------- optional service worker

// The page shell can only be cached for offline reloads when the server allows /static/sw.js to control
// /m (response header `Service-Worker-Allowed: /`); without it nothing is registered and a tip is shown.
async function setUpOfflineShell() {
  const tip = $("#offline-tip");
  if (!("serviceWorker" in navigator) || window.isSecureContext === false) { tip.hidden = false; return; }
  if (navigator.serviceWorker.controller) return;
  if (!navigator.onLine) { tip.hidden = false; return; }
  try {
    const head = await fetch("/static/sw.js", { method: "HEAD", cache: "no-store" });
    const allowed = head.ok ? head.headers.get("Service-Worker-Allowed") : null;
    if (!allowed || !"/m".startsWith(allowed)) { tip.hidden = false; return; }
    await navigator.serviceWorker.register("/static/sw.js", { scope: "/m" });
  } catch (e) {
    tip.hidden = false;
  }
}

// ---------------------------------------------------------------- wiring

function init() {
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", signOut);
  $("#sync").addEventListener("click", () => sync());
  $("#start").addEventListener("click", startInspection);
  $("#camera").addEventListener("change", (e) => addFiles(e.target));
  $("#gallery").addEventListener("change", (e) => addFiles(e.target));
  $("#project-filter").addEventListener("input", (e) => { ui.projectFilter = e.target.value; renderProjects(); });
  $("#retry-now").addEventListener("click", () => { retry.attempt = 0; clearRetry(); uploader.kick(); });
  for (const b of document.querySelectorAll("[data-go]")) b.addEventListener("click", () => go(b.dataset.go));
  window.addEventListener("hashchange", render);
  window.addEventListener("online", () => { retry.attempt = 0; net.trouble = null; renderNet(); uploader.kick(); });
  window.addEventListener("offline", () => { renderNet(); renderCounts(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") uploader.kick(); });
  renderNet();
  openDb().then(async () => {
    await render();
    if (token()) {
      uploader.kick();
      const last = await idbGet("kv", "last_sync");
      // Refresh the project list on open when it is older than an hour (and the network is there).
      if (navigator.onLine && (!last || Date.now() - Date.parse(last.at) > 3600 * 1000)) sync({ quiet: true });
    }
    setUpOfflineShell();
    pruneOld().catch(() => {});
  }, showFatal);
}

init();
