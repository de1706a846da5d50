// evidencekit serve: the self-check panel (evidence and build pages). It reads the same JSON as
// `check --json` from /case/<name>/selfcheck?format=json and is refreshed after every upload or
// save (ek.refreshSelfcheck), and when another channel is chosen.
"use strict";
(function () {
  const GROUPS = [[true, "missing", "还缺（必需）"], [true, "weak", "较弱（必需项）"],
                  [false, "weak", "较弱"], [false, "missing", "建议补充"]];

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;  // text only: file names come from strangers
    return e;
  }

  function render(body, data) {
    body.replaceChildren();
    if (data.error) { body.append(el("p", "error-box", data.error)); return; }
    const summary = el("p", data.complete ? "all-good" : "incomplete",
                       data.complete ? "必需的证据和信息已齐全。" : "还有必需的项目没有齐全。");
    body.append(summary);
    for (const [required, status, heading] of GROUPS) {
      const todos = data.todo.filter(t => t.required === required && t.status === status);
      if (!todos.length) continue;
      body.append(el("h3", "todo-" + status, heading + "（" + todos.length + "）"));
      const ul = el("ul", "todos");
      for (const t of todos) {
        const li = el("li");
        li.dataset.key = t.key;
        li.append(el("b", "", t.label), el("div", "why", "为什么：" + t.why));
        if (t.how) li.append(el("div", "how", "怎么补：" + t.how));
        ul.append(li);
      }
      body.append(ul);
    }
    const warnings = data.findings.filter(f => f.severity !== "info");
    if (warnings.length) {
      body.append(el("h3", "", "需要再看一下的文件（" + warnings.length + "）"));
      const ul = el("ul", "warnings");
      for (const f of warnings.slice(0, 30)) ul.append(el("li", "", (f.subject ? f.subject + "：" : "") + f.message));
      body.append(ul);
    }
    if (data.next_step && data.next_step.label) body.append(el("p", "next-step", "下一步：" + data.next_step.label));
  }

  async function refresh() {
    const panel = document.getElementById("selfcheck-panel");
    if (!panel) return;
    const body = panel.querySelector(".selfcheck-body");
    const target = panel.querySelector(".target-choice").value;
    try {
      const r = await fetch(panel.dataset.url + "&target=" + encodeURIComponent(target), { credentials: "same-origin" });
      render(body, await r.json());
      panel.dataset.state = "ready";
    } catch (e) {
      body.textContent = "自查暂时无法更新。";
    }
  }

  ek.refreshSelfcheck = refresh;
  document.addEventListener("DOMContentLoaded", () => {
    const choice = document.querySelector("#selfcheck-panel .target-choice");
    if (choice) choice.addEventListener("change", () => {
      refresh();
      document.dispatchEvent(new CustomEvent("ek:target", { detail: choice.value }));
    });
    refresh();
  });
})();
