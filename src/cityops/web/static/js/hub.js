// The data hub pages: the catalogue search, a dataset's quality report, request form and owner tools, and the
// decide / revoke forms of the lists. Every figure comes from the JSON API (/api/v1/datahub/...).
(function () {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const el = window.el;
  const json = window.pageData;
  const label = (pair, fallback) => (pair ? T(pair[0], pair[1]) : fallback);
  const pct = (score) => (score === null || score === undefined ? "—" : `${Math.round(score * 100)}%`);
  // The end of the chosen day in the city's time, so "until 31 December" includes that day.
  const endOfDay = (day) => (day ? `${day}T23:59:59+08:00` : null);

  // Server-rendered times are ISO strings; show them in the city's time and the visitor's language.
  const localTimes = () => {
    $$("time.js-time").forEach((node) => { node.textContent = fmtTime(node.getAttribute("datetime")); });
    $$("time.js-day").forEach((node) => { node.textContent = fmtTime(node.getAttribute("datetime")).slice(0, 10); });
  };

  const showError = (box, error) => {
    if (!box) return;
    box.textContent = error ? (error.message || String(error)) : "";
  };

  // --- catalogue ---------------------------------------------------------------------------------------

  function catalogue() {
    const form = $("#hub-search");
    if (!form) return;
    const labels = json("hub-labels") || {frequencies: {}, registers: {}};
    const body = $("#hub-datasets tbody");
    const more = $("#hub-more");
    let offset = 0;
    const limit = 50;

    const row = (d) => {
      const name = el("td", {}, el("a", {href: `/hub/datasets/${encodeURIComponent(d.code)}`, class: "dataset-link"},
        T(d.name, d.name_en || d.name)));
      if (d.description) name.append(el("div", {class: "note clamp", text: d.description}));
      const kind = el("td");
      if (d.register) kind.append(el("span", {class: "badge blue", text: label(labels.registers[d.register], d.register)}));
      else if (d.feeds_register) kind.append(el("span", {class: "badge", text: T("汇入", "Feeds ") + label(labels.registers[d.feeds_register], d.feeds_register)}));
      return el("tr", {"data-code": d.code}, name, el("td", {}, el("code", {text: d.code})),
        el("td", {text: d.owner_department || ""}),
        el("td", {text: label(labels.frequencies[d.update_frequency], d.update_frequency)}),
        el("td", {class: "num", text: d.row_count.toLocaleString()}), kind);
    };

    const load = async (append) => {
      const params = new URLSearchParams({limit: String(limit), offset: String(offset)});
      const q = $("#hub-q").value.trim();
      if (q) params.set("q", q);
      if ($("#hub-registers").checked) params.set("register", "true");
      showError($("#hub-error"), null);
      try {
        const page = await api(`/api/v1/datahub/datasets?${params}`);
        if (!append) body.replaceChildren();
        page.items.forEach((d) => body.append(row(d)));
        $("#hub-count").textContent = page.total
          ? T(`共 ${page.total} 个数据资源`, `${page.total} datasets`)
          : T("没有找到符合条件的数据资源。", "No dataset matches.");
        offset = page.offset + page.items.length;
        more.hidden = offset >= page.total;
      } catch (error) { showError($("#hub-error"), error); }
    };

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      offset = 0;
      const q = $("#hub-q").value.trim();
      history.replaceState(null, "", q ? `?q=${encodeURIComponent(q)}` : location.pathname);
      load(false);
    });
    more.addEventListener("click", () => load(true));
    load(false);
  }

  // --- a dataset ----------------------------------------------------------------------------------------

  function bar(title, score) {
    const value = score === null || score === undefined ? 0 : score;
    return el("div", {class: "qbar"}, el("span", {class: "qbar-label", text: title}),
      el("span", {class: "qbar-track", role: "img", "aria-label": `${title} ${pct(score)}`},
        el("span", {class: `qbar-fill ${value >= 0.9 ? "good" : value >= 0.7 ? "fair" : "poor"}`, style: `width:${Math.round(value * 100)}%`})),
      el("span", {class: "qbar-value", text: pct(score)}));
  }

  function renderQuality(box, quality) {
    const report = quality.report || {};
    box.replaceChildren();
    box.append(el("p", {class: "quality-overall"}, T("综合得分 ", "Overall "), el("strong", {text: pct(quality.overall)}),
      el("span", {class: "note", text: ` · ${T("核查时间", "checked")} ${fmtTime(quality.checked_at)} · ${T("版本", "version")} ${quality.dataset_version} · ${(report.rows || 0).toLocaleString()} ${T("行", "rows")}`})));
    const bars = el("div", {class: "qbars"});
    (report.measures || []).forEach((m) => {
      const name = T(m.label, m.label_en);
      bars.append(bar(`${name}${m.score === null ? T("（不适用）", " (n/a)") : ""}`, m.score));
    });
    box.append(bars);
    const fields = report.fields || [];
    if (fields.length) {
      const table = el("table", {class: "hub-table", id: "quality-fields"},
        el("thead", {}, el("tr", {}, ...[T("字段", "Field"), T("完整性", "Completeness"), T("有效性", "Validity"),
          T("唯一性", "Uniqueness"), T("缺失", "Missing"), T("不合规", "Invalid"), T("示例", "Examples")].map((h) => el("th", {scope: "col", text: h})))));
      const tbody = el("tbody");
      fields.forEach((f) => {
        const examples = el("td");
        (f.failures || []).forEach((x) => examples.append(el("div", {class: "note",
          text: `${T("第", "row ")}${x.row}${T("行", "")}: ${x.value === null ? "∅" : x.value} — ${T(x.message, x.message_en || x.message)}`})));
        if ((f.missing_required_rows || []).length) {
          examples.append(el("div", {class: "note", text: `${T("必填缺失行", "Required missing, rows")}: ${f.missing_required_rows.join(", ")}`}));
        }
        tbody.append(el("tr", {}, el("td", {text: f.title || f.name}), el("td", {text: pct(f.completeness)}),
          el("td", {text: pct(f.validity)}), el("td", {text: pct(f.uniqueness)}), el("td", {class: "num", text: f.missing}),
          el("td", {class: "num", text: f.invalid}), examples));
      });
      table.append(tbody);
      box.append(el("div", {class: "scroll"}, table));
    }
    (report.consistency_checks || []).forEach((c) => {
      const list = el("ul");
      (c.examples || []).forEach((x) => list.append(el("li", {text: `${x.key || ""} · ${x.field}: ${x.left ?? "∅"} ≠ ${x.right ?? "∅"}`})));
      box.append(el("p", {}, `${T("一致性", "Consistency")}: ${c.left_name} ↔ ${c.right_name} — ${c.mismatched}/${c.matched} ${T("个主体不一致", "keys differ")} (${pct(c.score)})`), list);
    });
  }

  async function loadQuality(code) {
    const box = $("#quality-body");
    try {
      renderQuality(box, await api(`/api/v1/datahub/datasets/${encodeURIComponent(code)}/quality`));
    } catch (error) {
      box.replaceChildren(el("p", {class: "note", text: error.status === 404
        ? T("尚未进行质量核查。", "This dataset has not been checked yet.") : error.message}));
    }
  }

  function requestForm(code) {
    const form = $("#request-form");
    if (!form) return;
    const until = $("#req-until");
    const later = new Date(Date.now() + 365 * 24 * 3600 * 1000);
    until.value = later.toISOString().slice(0, 10);
    until.min = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);
    // A field asked in clear is a field asked for: ticking "in clear" ticks the field too.
    $$("input[name=clear_fields]", form).forEach((box) => box.addEventListener("change", () => {
      if (box.checked) box.closest("tr").querySelector("input[name=fields]").checked = true;
    }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $("#request-error");
      const fields = $$("input[name=fields]:checked", form).map((b) => b.value);
      const clear = $$("input[name=clear_fields]:checked", form).map((b) => b.value).filter((f) => fields.includes(f));
      if (!fields.length) { error.textContent = T("请至少勾选一个字段。", "Tick at least one field."); return; }
      if (!until.value) { error.textContent = T("请填写使用期限。", "Fill in the date you need it until."); until.focus(); return; }
      const button = $("button[type=submit]", form);
      button.disabled = true;
      try {
        const created = await api("/api/v1/datahub/requests", {method: "POST", body: {
          dataset: code, kind: $("input[name=kind]:checked", form).value, fields, clear_fields: clear,
          purpose: $("#req-purpose").value, legal_basis: $("#req-basis").value, wanted_until: endOfDay(until.value)}});
        error.textContent = "";
        form.replaceChildren(el("p", {class: "request-sent", role: "status"},
          T(`申请已提交（编号 ${created.id}），等待数源部门审批。`, `Request ${created.id} sent; the owner will decide.`), " ",
          el("a", {href: "/hub/lists", text: T("查看需求清单", "See your demand list")})));
        toast(T("申请已提交", "Request sent"));
      } catch (e) {
        const names = {purpose: "#req-purpose", legal_basis: "#req-basis", wanted_until: "#req-until"};
        error.textContent = e.message;
        if (names[e.field]) $(names[e.field]).focus();
      } finally { button.disabled = false; }
    });
  }

  function importErrors(job) {
    const box = $("#import-errors");
    box.replaceChildren();
    if (!job.errors || !job.errors.length) return;
    const table = el("table", {class: "hub-table", id: "import-error-table"},
      el("thead", {}, el("tr", {}, ...[T("行", "Line"), T("字段", "Field"), T("规则", "Rule"), T("说明", "Message"), T("值", "Value")]
        .map((h) => el("th", {scope: "col", text: h})))));
    const tbody = el("tbody");
    job.errors.forEach((e) => tbody.append(el("tr", {}, el("td", {text: e.line ?? e.row ?? ""}), el("td", {text: e.field || ""}),
      el("td", {}, el("code", {text: e.rule || ""})), el("td", {text: T(e.message || "", e.message_en || e.message || "")}),
      el("td", {text: e.value ?? ""}))));
    table.append(tbody);
    box.append(el("div", {class: "scroll"}, table),
      el("p", {}, el("a", {href: `/api/v1/datahub/imports/${encodeURIComponent(job.id)}/errors.xlsx`, id: "import-errors-xlsx",
        text: T(`下载全部 ${job.error_count} 个错误（Excel）`, `Download all ${job.error_count} errors (Excel)`)})));
  }

  function ownerTools(code) {
    const form = $("#import-form");
    if (!form) return;
    const status = $("#import-status"), progress = $("#import-progress"), text = $("#import-text");
    const show = (job) => {
      status.hidden = false;
      progress.value = job.progress;
      const counted = job.total_rows ? ` ${job.processed_rows.toLocaleString()} / ${job.total_rows.toLocaleString()}` : "";
      if (job.status === "running") text.textContent = T("正在导入…", "Importing…") + counted;
      else if (job.status === "succeeded") {
        const s = job.summary || {};
        text.textContent = T(`导入成功：新增 ${s.created ?? 0} 行，更新 ${s.updated ?? 0} 行。`, `Imported: ${s.created ?? 0} new rows, ${s.updated ?? 0} updated.`);
      } else text.textContent = T(`导入失败：共 ${job.error_count} 个错误，数据未作任何改动。`, `The import failed with ${job.error_count} errors; nothing was changed.`);
      text.className = job.status === "failed" ? "error" : "";
      importErrors(job);
    };
    const poll = async (id) => {
      for (;;) {
        const job = await api(`/api/v1/datahub/imports/${encodeURIComponent(id)}`);
        show(job);
        if (job.status !== "running") return job;
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $("#import-error");
      const file = $("#import-file").files[0];
      if (!file) { error.textContent = T("请选择要导入的文件。", "Choose a file to import."); return; }
      const data = new FormData();
      data.append("file", file);
      data.append("mode", $("#import-mode").value);
      const button = $("button[type=submit]", form);
      button.disabled = true;
      error.textContent = "";
      try {
        const job = await api(`/api/v1/datahub/datasets/${encodeURIComponent(code)}/imports`, {method: "POST", form: data});
        show(job);
        const done = await poll(job.id);
        if (done.status === "succeeded") toast(T("导入成功", "Imported"));
      } catch (e) { error.textContent = e.message; } finally { button.disabled = false; }
    });
    $("#quality-run").addEventListener("click", async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        renderQuality($("#quality-body"), await api(`/api/v1/datahub/datasets/${encodeURIComponent(code)}/quality`, {method: "POST"}));
        toast(T("质量核查完成", "Quality checked"));
      } catch (e) { toast(e.message, "bad"); } finally { button.disabled = false; }
    });
    $("#rows-preview").addEventListener("click", async () => {
      const box = $("#rows-body");
      try {
        const page = await api(`/api/v1/datahub/datasets/${encodeURIComponent(code)}/rows?limit=20`);
        const names = Object.keys(page.fields);
        const table = el("table", {class: "hub-table", id: "rows-table"},
          el("thead", {}, el("tr", {}, ...names.map((n) => el("th", {scope: "col", text: n})))));
        const tbody = el("tbody");
        page.rows.forEach((r) => tbody.append(el("tr", {}, ...names.map((n) => el("td", {text: r[n] ?? ""})))));
        table.append(tbody);
        box.replaceChildren(table);
        if (!page.rows.length) box.append(el("p", {class: "note", text: T("暂无数据。", "No rows yet.")}));
      } catch (e) { box.replaceChildren(el("p", {class: "error", text: e.message})); }
    });
  }

  function dataset() {
    const section = $("#dataset");
    if (!section) return;
    const code = section.dataset.code;
    loadQuality(code);
    requestForm(code);
    ownerTools(code);
  }

  // --- the lists ----------------------------------------------------------------------------------------

  function lists() {
    $$("form.decide-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const approve = form.dataset.approve === "true";
      const error = $(".error", form);
      let body;
      if (approve) {
        const fields = $$("input[name=fields]:checked", form).map((b) => b.value);
        if (!fields.length) { error.textContent = T("请至少批准一个字段，或驳回申请。", "Approve at least one field, or reject."); return; }
        body = {approve: true, fields, clear_fields: $$("input[name=clear_fields]:checked", form).map((b) => b.value)
          .filter((f) => fields.includes(f))};
        const expires = $("input[name=expires_at]", form).value;
        if (expires) body.expires_at = endOfDay(expires);
      } else {
        body = {approve: false, reason: $("textarea[name=reason]", form).value};
      }
      const button = $("button[type=submit]", form);
      button.disabled = true;
      try {
        const decision = await api(`/api/v1/datahub/requests/${form.dataset.request}/decision`, {method: "POST", body});
        toast(approve ? T(`已批准，授权编号 ${decision.grant_id}`, `Approved: grant ${decision.grant_id}`) : T("已驳回", "Rejected"));
        location.reload();
      } catch (e) { error.textContent = e.message; button.disabled = false; }
    }));
    $$("form.revoke-form").forEach((form) => form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $(".error", form);
      try {
        await api(`/api/v1/datahub/grants/${form.dataset.grant}/revoke`, {method: "POST", body: {reason: $("input[name=reason]", form).value}});
        toast(T("授权已撤销", "Grant revoked"));
        location.reload();
      } catch (e) { error.textContent = e.message; }
    }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    localTimes();
    catalogue();
    dataset();
    lists();
  });
})();
