// evidencekit serve: the build page. Letter fields count their characters as web forms do (a
// line break counts twice, channels/letter.measure) and copy themselves; the build runs on the
// server in a thread, polled here until it is done, then its thumbnails and downloads appear.
"use strict";
(function () {
  const measure = text => [...text].length + (text.match(/\n/g) || []).length;

  function count(box) {
    const text = box.querySelector("textarea").value;
    const limit = parseInt(box.dataset.limit, 10);
    const n = measure(text);
    const counter = box.querySelector(".counter");
    counter.textContent = limit ? `${n}/${limit} 字` : `${n} 字`;
    counter.classList.toggle("over", Boolean(limit) && n > limit);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function mb(size) { return size == null ? "" : `（${(size / 1e6).toFixed(1)} MB）`; }

  function show(job) {
    const box = document.getElementById("build-progress");
    const bar = document.getElementById("progress-bar");
    const text = document.getElementById("progress-text");
    box.dataset.state = job ? job.state : "none";
    if (!job || job.state === "none") return;
    if (job.state === "running") {
      if (job.total) { bar.max = job.total; bar.value = job.done; } else { bar.removeAttribute("value"); }
      text.textContent = job.total && job.done < job.total
        ? `正在处理 ${job.done}/${job.total}：${job.current}` : "正在排版和写入……";
      return;
    }
    bar.max = 1; bar.value = job.state === "done" ? 1 : 0;
    text.textContent = job.message;
    text.className = job.state === "failed" ? "error-box" : "";
    const downloads = document.getElementById("downloads");
    const thumbs = document.getElementById("thumbs");
    downloads.replaceChildren();
    thumbs.replaceChildren();
    if (job.state !== "done") return;
    for (const out of job.outputs) {
      const li = el("li");
      const a = el("a", "download", "下载 " + out.name);
      a.href = out.url;
      a.setAttribute("download", out.name.split("/").pop());
      li.append(a, document.createTextNode(mb(out.size)));
      downloads.append(li);
    }
    job.thumbnails.forEach((url, i) => {
      const fig = el("figure");
      const img = el("img");
      img.src = url;
      img.alt = `第 ${i + 1} 页`;
      fig.append(img, el("figcaption", "", `第 ${i + 1} 页`));
      thumbs.append(fig);
    });
    if (job.page_count > job.thumbnails.length) thumbs.append(el("p", "hint", `共 ${job.page_count} 页，只显示前 ${job.thumbnails.length} 页`));
    if (ek.refreshSelfcheck) ek.refreshSelfcheck();
  }

  async function poll() {
    const page = document.getElementById("build-page");
    const r = await fetch(page.dataset.jobUrl, { credentials: "same-origin" });
    const job = await r.json();
    show(job);
    if (job.state === "running") setTimeout(poll, 400);
  }

  async function start(what) {
    const page = document.getElementById("build-page");
    const body = {
      what, target: document.getElementById("target").value,
      to: document.getElementById("recipient") ? document.getElementById("recipient").value : "",
      reproducible: document.getElementById("opt-reproducible").checked,
      mask_personal: document.getElementById("opt-mask").checked,
      no_originals: document.getElementById("opt-no-originals").checked,
      no_ocr: document.getElementById("opt-no-ocr").checked,
      strict: document.getElementById("opt-strict").checked,
      renumber: document.getElementById("opt-renumber").checked,
    };
    const r = await ek.post(page.dataset.startUrl, body);
    if (!r.ok) {
      const text = document.getElementById("progress-text");
      text.textContent = (r.data && r.data.error) || "无法开始生成";
      text.className = "error-box";
      return;
    }
    show(r.data.job);
    poll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const box of document.querySelectorAll(".letter-field")) {
      count(box);
      box.querySelector("textarea").addEventListener("input", () => count(box));
      box.querySelector(".copy").addEventListener("click", async () => {
        const area = box.querySelector("textarea");
        try { await navigator.clipboard.writeText(area.value); } catch (e) { area.select(); document.execCommand("copy"); }
        box.querySelector(".copied").textContent = " 已复制";
      });
    }
    document.getElementById("build-dossier").addEventListener("click", () => start("dossier"));
    document.getElementById("build-pack").addEventListener("click", () => start("pack"));
    const choice = document.querySelector("#selfcheck-panel .target-choice");
    document.getElementById("target").addEventListener("change", e => {
      if (choice) { choice.value = e.target.value; ek.refreshSelfcheck(); }
    });
    const job = JSON.parse(document.getElementById("job-data").textContent || "null");
    show(job);
    if (job && job.state === "running") poll();
  });
})();
