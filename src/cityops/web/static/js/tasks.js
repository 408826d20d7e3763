// The department handler's tasks: the cases the department must do, each opened in the shared case panel
// (workbench.js), where the actions the rules allow are offered: accept, return, mark handled, ask for more time.
(function () {
  "use strict";
  const PAGE_SIZE = 20;

  function start() {
    const {h, badges, renderCase, panelKeys} = window.CityCase;
    const list = document.getElementById("task-list");
    const panel = document.getElementById("case-panel");
    const state = {offset: 0, openId: null};

    async function open(item) {
      state.openId = item.id;
      list.querySelectorAll("li").forEach((li) => li.classList.toggle("open", Number(li.dataset.caseId) === item.id));
      const detail = await renderCase(panel, item.id, {onChange: () => load()});
      if (!detail) return;
      const title = panel.querySelector(".case-title");
      title.focus({preventScroll: true});
      if (window.matchMedia("(max-width: 900px)").matches) panel.scrollIntoView({block: "start"});
    }

    async function load() {
      if (window.CityCase.ctx.role !== "handler") {  // an administrator may look, but tasks belong to departments
        list.replaceChildren(h("li", {class: "note empty"}, T("任务列表只列出处置人员所在部门的案件；管理员请在派遣工作台查找案件。",
          "The list shows a handler's department's cases; administrators find cases in the dispatcher workbench."), " ",
          h("a", {href: "/workbench"}, T("打开派遣工作台", "Open the workbench"))));
        return;
      }
      list.setAttribute("aria-busy", "true");
      try {
        const page = await api(`/api/v1/workbench/my-tasks?limit=${PAGE_SIZE}&offset=${state.offset}`);
        document.getElementById("tasks-count").textContent = `(${page.total})`;
        const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
        const current = Math.floor(state.offset / PAGE_SIZE) + 1;
        document.getElementById("tasks-page").textContent = T(`第 ${current}/${pages} 页，共 ${page.total} 件`, `Page ${current} of ${pages}, ${page.total} cases`);
        document.getElementById("tasks-prev").disabled = state.offset === 0;
        document.getElementById("tasks-next").disabled = state.offset + PAGE_SIZE >= page.total;
        if (!page.items.length) {
          list.replaceChildren(h("li", {class: "note empty"}, T("暂无待办任务。", "Nothing to do right now.")));
          return;
        }
        list.replaceChildren(...page.items.map((item) => h("li", {class: "task" + (item.id === state.openId ? " open" : ""),
                                                                 "data-case-id": item.id, "data-number": item.number},
          h("div", {class: "row"}, h("strong", {class: "case-number"}, item.number), badges(item)),
          h("p", {class: "row-title"}, item.title),
          item.address ? h("p", {class: "note"}, item.address) : null,
          h("p", {class: "note"}, item.stage_due_at ? T("本环节时限 ", "Due ") + fmtTime(item.stage_due_at) : ""),
          h("button", {type: "button", class: "primary big", onclick: () => open(item),
                       "aria-label": T(`办理 ${item.number}`, `Work on ${item.number}`)}, T("办理", "Work on it")))));
      } catch (e) {
        list.replaceChildren(h("li", {class: "error", role: "alert"}, e.message));
      } finally { list.removeAttribute("aria-busy"); }
    }

    document.getElementById("tasks-reload").addEventListener("click", load);
    document.getElementById("tasks-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(); });
    document.getElementById("tasks-next").addEventListener("click", () => { state.offset += PAGE_SIZE; load(); });
    document.addEventListener("keydown", (event) => panelKeys(panel, event));
    load();
  }

  window.CityTasks = {start};
})();
