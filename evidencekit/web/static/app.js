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

// Case facts: an OCR proposal's button fills its field in one click (and is sent back with the
// form, so the saved value gets `init`'s note saying which screenshot it was read from).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.ocr-fill");
  if (!button) return;
  const form = button.closest("form");
  const key = button.dataset.key;
  const input = form.querySelector(`[name="${CSS.escape(key)}"]`);
  if (!input) return;
  input.value = button.dataset.value;
  for (const [prefix, value] of [["proposal:", button.dataset.value], ["source:", button.dataset.source]]) {
    let hidden = form.querySelector(`input[type=hidden][name="${CSS.escape(prefix + key)}"]`);
    if (!hidden) {
      hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = prefix + key;
      form.appendChild(hidden);
    }
    hidden.value = value;
  }
  input.dispatchEvent(new Event("change", { bubbles: true }));
});
