// evidencekit serve: the evidence page. Files dropped on a kind (or picked with the file input)
// are sent as one multipart POST; the answer names each copy with its SHA-256 and resolved time.
// Per-file fields and redaction rectangles are saved into case.yaml; the loader's messages come
// back by field. After every change the list and the self-check panel are read again.
"use strict";
(function () {
  const page = () => document.getElementById("evidence-page");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function reloadList() {
    const r = await fetch(page().dataset.listUrl, { credentials: "same-origin" });
    document.getElementById("evidence-list").innerHTML = await r.text();  // our own escaped template
    bindRedaction();
    if (ek.refreshSelfcheck) ek.refreshSelfcheck();
  }

  function showUpload(result) {
    const box = document.getElementById("upload-result");
    box.replaceChildren();
    if (result.error) box.append(el("p", "error-box", result.error));
    for (const f of result.files || []) {
      const item = el("div", "uploaded");
      if (f.error) {
        item.append(el("span", "mono", f.file), el("span", "error-box", "：" + f.error));
      } else {
        item.append(el("b", "", "证据" + f.number + "　" + f.name),
                    el("div", "mono sha", "SHA-256：" + f.sha256),
                    el("div", "time", "时间：" + (f.time || "时间不明") + "（" + f.time_phrase + "）"));
      }
      box.append(item);
    }
    box.dataset.state = "done";
  }

  async function upload(kind, files) {
    const p = page();
    const list = Array.from(files);
    const box = document.getElementById("upload-result");
    if (!list.length) return;
    if (list.length > parseInt(p.dataset.maxFiles, 10)) {
      box.textContent = "一次最多上传 " + p.dataset.maxFiles + " 个文件"; return;
    }
    const form = new FormData();
    form.append("kind", kind);
    for (const f of list) { form.append("files", f, f.name); form.append("mtime", String(f.lastModified || "")); }
    box.dataset.state = "uploading";
    box.textContent = "正在复制 " + list.length + " 个文件……";
    const r = await ek.post(p.dataset.uploadUrl, form);
    if (typeof r.data === "string") { box.textContent = r.status === 413 ? "上传的文件过大" : "上传失败"; box.dataset.state = "done"; return; }
    showUpload(r.data);
    await reloadList();
  }

  function showErrors(article, errors) {
    for (const slot of article.querySelectorAll(".field-error")) slot.textContent = errors[slot.dataset.key] || "";
  }

  async function saveFields(article) {
    const form = article.querySelector("form.fields");
    const body = { file: article.dataset.file };
    for (const key of ["title", "proves", "time", "moments"]) body[key] = form.elements[key].value;
    const r = await ek.post(page().dataset.fieldsUrl, body);
    const note = article.querySelector(".saved-note");
    if (r.ok) {
      showErrors(article, {});
      note.textContent = "已保存";
      await reloadList();
    } else {
      showErrors(article, r.data.errors || { "": r.data.error || "保存失败" });
      note.textContent = "";
    }
  }

  async function saveRedaction(article, rects) {
    const r = await ek.post(page().dataset.redactUrl, { file: article.dataset.file, rects });
    if (!r.ok) { showErrors(article, r.data.errors || { "": r.data.error || "保存失败" }); return; }
    await reloadList();
  }

  function bindRedaction() {
    for (const article of document.querySelectorAll("article.exhibit")) {
      if (article.querySelector(".redact-data")) ekRedact.attach(article, saveRedaction);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = page();
    // Event delegation: the list is replaced after every change.
    root.addEventListener("dragover", e => {
      const zone = e.target.closest(".dropzone");
      if (zone) { e.preventDefault(); zone.classList.add("over"); }
    });
    root.addEventListener("dragleave", e => {
      const zone = e.target.closest(".dropzone");
      if (zone) zone.classList.remove("over");
    });
    root.addEventListener("drop", e => {
      const zone = e.target.closest(".dropzone");
      if (!zone) return;
      e.preventDefault();
      zone.classList.remove("over");
      upload(zone.dataset.kind, e.dataTransfer.files);
    });
    root.addEventListener("keydown", e => {  // keyboards: Enter or Space on a drop zone picks files
      const zone = e.target.closest(".dropzone");
      if (zone && e.target === zone && (e.key === "Enter" || e.key === " ")) {
        e.preventDefault();
        zone.querySelector(".file-input").click();
      }
    });
    root.addEventListener("change", e => {
      if (e.target.matches(".file-input")) upload(e.target.dataset.kind, e.target.files);
    });
    root.addEventListener("submit", e => {
      const article = e.target.closest("article.exhibit");
      if (article) { e.preventDefault(); saveFields(article); }
    });
    root.addEventListener("click", e => {
      const article = e.target.closest("article.exhibit");
      if (!article) return;
      const rects = article.querySelector(".redact-data") ? ekRedact.rectsOf(article) : [];
      if (e.target.matches(".redact-undo") && rects.length) saveRedaction(article, rects.slice(0, -1));
      if (e.target.matches(".redact-clear") && rects.length) saveRedaction(article, []);
    });
    bindRedaction();
  });
})();
