// Sitewatch phone page: keeps the page shell (/m, mobile.js, mobile.css) so /m opens and reloads offline.
// Registered by mobile.js with scope "/m" ONLY when the server answers /static/sw.js with the header
// `Service-Worker-Allowed: /` (a script under /static/ may otherwise control /static/ only).
// Network first with a short wait, then the cached copy; API requests (/mobile/v1/...) are never touched,
// so the photo queue (IndexedDB) and the server's receipts stay the only source of truth.
"use strict";

const SHELL_CACHE = "sitewatch-m-shell-v1";
const SHELL = ["/m", "/static/mobile.js", "/static/mobile.css"];
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("sitewatch-m-") && key !== SHELL_CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  const key = url.pathname;
  const network = fetch(url.href, { cache: "no-store", credentials: "same-origin" });
  // Refresh the cached copy from every good answer (cloned at once, before the page reads the body).
  const update = network.then((response) => {
    if (!response.ok) return undefined;
    const copy = response.clone();
    return caches.open(SHELL_CACHE).then((cache) => cache.put(key, copy));
  }).catch(() => undefined);
  event.waitUntil(update);
  event.respondWith(respond(network, key));
});

async function respond(network, key) {
  const cached = await caches.match(key, { cacheName: SHELL_CACHE });
  if (!cached) return network;
  // Weak mountain 4G: do not keep the inspector waiting on a stalled connection.
  const wait = new Promise((resolve) => setTimeout(() => resolve(cached), NETWORK_WAIT_MS));
  return Promise.race([network.then((r) => (r.ok ? r : cached), () => cached), wait]);
}
