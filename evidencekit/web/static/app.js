// evidencekit serve: shared helpers. Every state-changing request is a POST carrying the page's
// CSRF token (meta[name=csrf-token]) in the X-CSRF-Token header; the access token travels in the
// session cookie the server set on the first visit.
"use strict";
const ek = {
  csrf() { return document.querySelector('meta[name="csrf-token"]').content; },
  async post(url, body) {
    const headers = { "X-CSRF-Token": ek.csrf() };
    let payload = body;
    if (!(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body ?? {});
    }
    const r = await fetch(url, { method: "POST", headers, body: payload, credentials: "same-origin" });
    const data = r.headers.get("Content-Type")?.includes("json") ? await r.json() : await r.text();
    return { ok: r.ok, status: r.status, data };
  },
};
