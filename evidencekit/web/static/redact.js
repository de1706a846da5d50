// evidencekit serve: redaction by drawing rectangles on the display copy of an image.
// A canvas lies over each drawable segment; a drag draws a rectangle, converted to the upright
// original's pixels (the segment's data-top/data-bottom say which rows of the original it shows),
// and saved as the file's `redact:` in case.yaml. The server then returns a new display copy
// with the rectangles painted black by the dossier's own code.
"use strict";
const ekRedact = (function () {
  function rectsOf(article) {
    return JSON.parse(article.querySelector(".redact-data").textContent || "[]");
  }

  // Original-pixel rectangle -> canvas rectangle on one segment (null when it is not on it).
  function toCanvas(rect, seg, canvas, width) {
    const top = parseFloat(seg.dataset.top), bottom = parseFloat(seg.dataset.bottom);
    const sx = canvas.width / width, sy = canvas.height / (bottom - top);
    const [x, y, w, h] = rect;
    if (y + h <= top || y >= bottom) return null;
    return [x * sx, (y - top) * sy, w * sx, h * sy];
  }

  function draw(article) {
    const width = parseFloat(article.dataset.width);
    for (const seg of article.querySelectorAll(".segment.drawable")) {
      const canvas = seg.querySelector("canvas");
      if (!canvas) continue;
      const g = canvas.getContext("2d");
      g.clearRect(0, 0, canvas.width, canvas.height);
      g.strokeStyle = "#e63946";
      g.lineWidth = 2;
      for (const rect of rectsOf(article)) {
        const c = toCanvas(rect, seg, canvas, width);
        if (c) g.strokeRect(...c);
      }
      if (seg._drag) {
        g.setLineDash([6, 4]);
        g.strokeRect(...seg._drag);
        g.setLineDash([]);
      }
    }
    article.querySelector(".redact-count b").textContent = String(rectsOf(article).length);
  }

  function attach(article, save) {
    const width = parseFloat(article.dataset.width), height = parseFloat(article.dataset.height);
    if (!width || !height) return;
    for (const seg of article.querySelectorAll(".segment.drawable")) {
      const img = seg.querySelector("img");
      const canvas = document.createElement("canvas");
      canvas.className = "redact-canvas";
      canvas.width = parseInt(img.getAttribute("width"), 10);  // the display copy's own pixels
      canvas.height = parseInt(img.getAttribute("height"), 10);
      seg.append(canvas);
      let start = null;
      const at = e => {
        const b = canvas.getBoundingClientRect();
        return [(e.clientX - b.left) * canvas.width / b.width, (e.clientY - b.top) * canvas.height / b.height];
      };
      canvas.addEventListener("mousedown", e => { start = at(e); e.preventDefault(); });
      canvas.addEventListener("mousemove", e => {
        if (!start) return;
        const p = at(e);
        seg._drag = [Math.min(start[0], p[0]), Math.min(start[1], p[1]), Math.abs(p[0] - start[0]), Math.abs(p[1] - start[1])];
        draw(article);
      });
      const finish = e => {
        if (!start) return;
        const p = at(e);
        const [cx, cy, cw, ch] = [Math.min(start[0], p[0]), Math.min(start[1], p[1]), Math.abs(p[0] - start[0]), Math.abs(p[1] - start[1])];
        start = null;
        seg._drag = null;
        // Canvas pixels -> original pixels: x by the width ratio, y within the segment's rows.
        const top = parseFloat(seg.dataset.top), bottom = parseFloat(seg.dataset.bottom);
        const sx = width / canvas.width, sy = (bottom - top) / canvas.height;
        if (cw < 3 || ch < 3) {
          // A click, not a drag: a click inside a rectangle removes it.
          const px = p[0] * sx, py = top + p[1] * sy;
          const rects = rectsOf(article);
          const hit = rects.findIndex(([x, y, w, h]) => px >= x && px <= x + w && py >= y && py <= y + h);
          if (hit >= 0) save(article, rects.filter((_, i) => i !== hit)); else draw(article);
          return;
        }
        const x = Math.max(0, Math.floor(cx * sx)), y = Math.max(0, Math.floor(top + cy * sy));
        const rect = [x, y, Math.min(width - x, Math.ceil(cw * sx)), Math.min(height - y, Math.ceil(ch * sy))];
        save(article, [...rectsOf(article), rect]);
      };
      canvas.addEventListener("mouseup", finish);
      canvas.addEventListener("mouseleave", e => { if (start) finish(e); });
    }
    draw(article);
  }

  return { rectsOf, attach, draw };
})();
