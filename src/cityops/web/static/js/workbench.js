// The dispatcher's workbench and the case panel it shares with the handlers' task page.
// Which actions a case offers comes from the server's rule table (cases/states.py, sent with the page), so the
// page never offers what the API would refuse for the case's state and the visitor's role.
(function () {
  "use strict";

  const RULES = JSON.parse(document.getElementById("case-rules").textContent);
  const CTX = JSON.parse(document.getElementById("case-context").textContent);
  const PAGE_SIZE = 20;

  // --- small DOM helpers (text always goes in as text, never as HTML) --------------------------------------
  const h = window.el;
  const kbd = (key) => h("kbd", {"aria-hidden": "true"}, key);
  const pct = (p) => `${Math.round(p * 100)}%`;
  const editing = (node) => node && (node.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(node.tagName));

  // --- reference data, loaded once per page -----------------------------------------------------------------
  const cache = {};
  function once(key, load) {
    if (!cache[key]) cache[key] = load().catch((e) => { delete cache[key]; throw e; });
    return cache[key];
  }
  const categories = () => once("categories", async () => {
    const page = await api("/api/v1/categories?limit=500&active=true");
    return page.items;
  });
  const departments = () => once("departments", () => api("/api/v1/departments"));
  const districts = () => once("districts", () => api("/api/v1/regions/geojson?level=district&limit=100"));
  const regionOf = (code) => once(`region:${code}`, () => api(`/api/v1/regions/${encodeURIComponent(code)}`));
  async function categoryName(code) {
    if (!code) return "";
    const found = (await categories().catch(() => [])).find((c) => c.code === code);
    return found ? `${T(found.name, found.name_en || found.name)}（${code}）` : code;
  }
  async function departmentName(id) {
    if (id === null || id === undefined) return "";
    const found = (await departments().catch(() => [])).find((d) => d.id === id);
    return found ? T(found.name, found.name_en || found.name) : `#${id}`;
  }

  // --- the words for actions and fields ---------------------------------------------------------------------
  const ACTIONS = {
    register: ["立案", "Register", "r"], reject: ["不予立案", "Reject", "x"], dispatch: ["派遣", "Dispatch", "d"],
    return: ["退回", "Return", "b"], accept: ["签收", "Accept", "a"], handle: ["处置完成", "Mark handled", "h"],
    verify: ["核查通过", "Verify", "v"], rework: ["返工", "Rework", "w"], close: ["结案", "Close", "c"],
    follow_up: ["回访", "Follow up", "f"], reopen: ["重新办理", "Reopen", "o"],
    request_extension: ["申请延期", "Request more time", "t"], decide_extension: ["审批延期", "Decide extension", "y"],
    suspend: ["挂账", "Suspend", "s"], resume: ["取消挂账", "Resume", "u"], escalate: ["督办", "Escalate", "e"],
    complete_assist: ["协办完成", "Assist done", "n"], merge: ["合并", "Merge", "m"],
    reclassify: ["改类", "Reclassify", "g"],
    receive: ["受理", "Received"], merge_in: ["并入重复案件", "Duplicate merged in"], split_report: ["拆出上报", "Report split out"],
    split_from: ["由拆分生成", "Split from"], attach_report: ["关联新上报", "Report joined"], fuse: ["关联新上报", "Report joined"],
  };
  const actionLabel = (a) => (ACTIONS[a] ? T(ACTIONS[a][0], ACTIONS[a][1]) : a);
  const REASON_LABELS = {
    reject: ["不予立案理由", "Why it is not registered"], return: ["退回理由", "Why it is returned"],
    rework: ["返工原因", "What must be redone"], suspend: ["挂账原因", "Why it is suspended"],
    escalate: ["督办事由", "Why it is escalated"], merge: ["合并理由", "Why it is a duplicate"],
    reopen: ["重新办理原因", "Why it is reopened"], request_extension: ["延期理由", "Why more time is needed"],
    reclassify: ["改类原因", "Why the category changes"],
  };
  const FIELD_LABELS = {
    reason: ["理由", "Reason"], category_code: ["案件分类", "Category"], department_id: ["主办部门", "Lead department"],
    assist_department_ids: ["协办部门（联办，可不选）", "Assisting departments (joint handling, optional)"],
    result: ["处置结果", "Result"], photos: ["处置照片", "Photo of the result"], hours: ["延长时限（工作小时）", "Extra time (working hours)"],
    approved: ["审批意见", "Decision"], resolved: ["问题是否解决", "Was it resolved"], satisfaction: ["满意度", "Satisfaction"],
    target: ["并入的案件编号", "Number of the case to merge into"], level: ["督办级别", "Escalation level"],
    expected_version: ["案件版本", "Case version"], source: ["案件编号", "Case number"],
  };
  const fieldLabel = (name, action) => {
    const words = (name === "reason" && REASON_LABELS[action]) || FIELD_LABELS[name];
    return words ? T(words[0], words[1]) : name;
  };
  const SATISFACTION = {satisfied: ["满意", "Satisfied"], basically: ["基本满意", "Fairly satisfied"],
                        dissatisfied: ["不满意", "Dissatisfied"]};
  const TASK_STATES = {open: ["待办", "open"], done: ["已完成", "done"], returned: ["已退回", "returned"],
                       cancelled: ["已取消", "cancelled"], pending: ["待审批", "pending"], approved: ["已批准", "approved"],
                       rejected: ["未批准", "denied"]};
  const taskState = (s) => (TASK_STATES[s] ? T(TASK_STATES[s][0], TASK_STATES[s][1]) : s);
  const WAITING = {unlocated: ["未能定位", "Place unknown"], no_category: ["分类不确定", "Category unsure"],
                   no_department: ["无匹配部门", "No department found"]};
  const ROLE_WORDS = {admin: ["管理员", "Admin"], leader: ["领导", "Leader"], dispatcher: ["派遣员", "Dispatcher"],
                      handler: ["处置人员", "Handler"], grid_worker: ["网格员", "Grid worker"], citizen: ["市民", "Citizen"],
                      data_officer: ["数据专员", "Data officer"], system: ["系统", "System"]};
  const roleLabel = (r) => (ROLE_WORDS[r] ? T(ROLE_WORDS[r][0], ROLE_WORDS[r][1]) : r);
  const CHANNELS = {hotline: ["12345热线", "Hotline"], patrol: ["网格巡查", "Patrol"], portal: ["市民网站", "Portal"],
                    open311: ["Open311", "Open311"], video: ["视频识别", "Video"], sensor: ["物联感知", "Sensor"],
                    department: ["部门移交", "Department"]};
  const channelLabel = (c) => (CHANNELS[c] ? T(CHANNELS[c][0], CHANNELS[c][1]) : c);
  const caseState = (state) => {
    const words = CTX.state_labels[state];
    return words ? T(words[0], words[1]) : stateLabel(state);
  };
  // "staff:4:zd_dispatcher" → "zd_dispatcher"; the triage worker reads as itself.
  const actorName = (actor) => {
    const name = String(actor || "").split(":").slice(2).join(":") || actor;
    return String(actor).startsWith("system:") ? T(`系统（${name}）`, `system (${name})`) : name;
  };

  // --- which actions this visitor may take on this case now ------------------------------------------------
  function allowedActions(detail) {
    const c = detail.case;
    const pending = (detail.extensions || []).some((e) => e.state === "pending");
    const mine = CTX.department_id !== null && CTX.department_id === c.department_id;
    const assisting = (detail.tasks || []).some((t) => t.role === "assist" && t.state === "open"
                                                  && t.department_id === CTX.department_id);
    // In the workflow's order (the JSON object's keys come sorted by name).
    return Object.keys(ACTIONS).filter((a) => RULES[a]).map((a) => [a, RULES[a]]).filter(([action, rule]) => {
      if (!rule.roles.includes(CTX.role) || !rule.sources.includes(c.state)) return false;
      if (action === "resume") return c.suspended;
      if (c.suspended && !rule.allowed_when_suspended) return false;
      if (action === "complete_assist") return assisting && !mine;
      if (rule.department_only && !mine) return false;
      if (action === "decide_extension") return pending;
      if (action === "request_extension") return !pending;
      return true;
    }).map(([action]) => action);
  }

  // --- the form for one action: exactly the fields the rule requires ----------------------------------------
  function fieldsFor(action) {
    const names = [...RULES[action].requires];
    if (action === "dispatch") names.push("assist_department_ids");
    if (action === "merge") names.unshift("target");
    return names;
  }

  async function widget(name, action, detail, suggestions) {
    const id = `f-${action}-${name}`;
    const label = fieldLabel(name, action);
    const c = detail.case;
    const optional = name === "assist_department_ids";
    const wrap = h("div", {class: "field", "data-field": name});
    const error = h("p", {class: "error", id: `${id}-error`, "data-error-for": name});
    const described = {"aria-describedby": `${id}-error`};
    if (name === "category_code") {
      const cats = await categories();
      const select = h("select", {id, name, required: true, ...described},
        h("option", {value: ""}, T("请选择分类", "Choose a category")),
        cats.filter((x) => x.level > 1 || !cats.some((y) => y.parent_code === x.code))
          .map((x) => h("option", {value: x.code}, `${x.code} ${T(x.name, x.name_en || x.name)}`)));
      // Only a suggestion the classifier was sure of is preselected; an unsure one is offered, not chosen.
      select.value = c.category_code || (suggestions[0] && suggestions[0].accepted ? suggestions[0].code : "");
      wrap.append(h("label", {for: id}, label), select);
      if (suggestions.length) {
        wrap.append(h("div", {class: "row suggestions"}, h("span", {class: "note"}, T("分类建议：", "Suggested: ")),
          suggestions.map((s) => h("button", {type: "button", class: "chip", onclick: () => { select.value = s.code; select.focus(); }},
            `${s.name}  ${pct(s.confidence)}`))));
      }
    } else if (name === "department_id") {
      const deps = await departments();
      const select = h("select", {id, name, required: true, ...described},
        h("option", {value: ""}, T("请选择部门", "Choose a department")),
        deps.map((d) => h("option", {value: d.id, "data-code": d.code}, T(d.name, d.name_en || d.name))));
      const routed = c.route && c.route.department_id;
      select.value = String(routed || (c.state === "returned" ? "" : c.department_id || "") || "");
      wrap.append(h("label", {for: id}, label), select);
      if (c.route && c.route.reason) wrap.append(h("p", {class: "note"}, T("路由建议：", "Routing: ") + c.route.reason));
    } else if (name === "assist_department_ids") {
      const deps = await departments();
      wrap.append(h("fieldset", {class: "checks"}, h("legend", {}, label),
        deps.map((d) => h("label", {class: "check"}, h("input", {type: "checkbox", name, value: d.id}), T(d.name, d.name_en || d.name)))));
    } else if (name === "approved") {
      const pending = (detail.extensions || []).find((e) => e.state === "pending");
      wrap.append(h("fieldset", {class: "checks"}, h("legend", {}, label),
        pending ? h("p", {class: "note"}, T(`申请延期 ${pending.hours} 工作小时：${pending.reason}（${actorName(pending.requested_by)}）`,
                                          `${pending.hours} working hours asked: ${pending.reason} (${actorName(pending.requested_by)})`)) : null,
        h("label", {class: "check"}, h("input", {type: "radio", name, value: "true", required: true}), T("批准", "Approve")),
        h("label", {class: "check"}, h("input", {type: "radio", name, value: "false"}), T("不批准", "Deny"))));
    } else if (name === "resolved") {
      wrap.append(h("label", {for: id}, label), h("select", {id, name, required: true, ...described},
        h("option", {value: ""}, T("请选择", "Choose")), h("option", {value: "true"}, T("已解决", "Resolved")),
        h("option", {value: "false"}, T("未解决", "Not resolved"))));
    } else if (name === "satisfaction") {
      wrap.append(h("label", {for: id}, label), h("select", {id, name, required: true, ...described},
        h("option", {value: ""}, T("请选择", "Choose")),
        CTX.satisfaction.map((s) => h("option", {value: s}, SATISFACTION[s] ? T(SATISFACTION[s][0], SATISFACTION[s][1]) : s))));
    } else if (name === "hours") {
      wrap.append(h("label", {for: id}, label),
        h("input", {id, name, type: "number", min: "0.5", max: "720", step: "0.5", inputmode: "decimal", required: true, ...described}));
    } else if (name === "photos") {
      wrap.append(h("label", {for: id}, label),
        h("input", {id, name, type: "file", accept: "image/jpeg,image/png,image/webp", capture: "environment", multiple: true,
                    required: true, ...described}),
        h("p", {class: "note"}, T("可拍照或从相册选择，最多 9 张。", "Take a photo or choose one; at most 9.")));
    } else if (name === "target") {
      wrap.append(h("label", {for: id}, label),
        h("input", {id, name, required: true, maxlength: "32", autocomplete: "off", placeholder: "AJ…", ...described}),
        h("p", {class: "note"}, T("本案件是该案件的重复：本案的上报将转入该案件，本案件标记为已合并。",
                                  "This case duplicates that one: its reports move there and this case is marked merged.")));
    } else {  // reason, result: free text
      wrap.append(h("label", {for: id}, label),
        h("textarea", {id, name, required: !optional, maxlength: name === "result" ? "5000" : "2000", ...described}));
    }
    wrap.append(error);
    return wrap;
  }

  // Collect what the form says, in the API's types; a missing required field is named next to it.
  function readForm(form, action) {
    const body = {}; const missing = [];
    for (const name of fieldsFor(action)) {
      const inputs = [...form.querySelectorAll(`[name="${name}"]`)];
      if (!inputs.length) continue;
      let value;
      if (name === "assist_department_ids") value = inputs.filter((i) => i.checked).map((i) => Number(i.value));
      else if (name === "approved") { const on = inputs.find((i) => i.checked); value = on ? on.value === "true" : null; }
      else if (name === "photos") value = [...inputs[0].files];
      else if (name === "department_id") value = inputs[0].value ? Number(inputs[0].value) : null;
      else if (name === "hours") value = inputs[0].value ? Number(inputs[0].value) : null;
      else if (name === "resolved") value = inputs[0].value ? inputs[0].value === "true" : null;
      else value = inputs[0].value.trim() || null;
      const empty = value === null || (Array.isArray(value) && !value.length);
      if (empty && name !== "assist_department_ids") missing.push(name);
      else body[name] = value;
    }
    return {body, missing};
  }

  function showError(form, action, field, message) {
    const base = field ? String(field).split(/[[.]/)[0] : "";
    const slot = (base && form.querySelector(`[data-error-for="${base}"]`)) || form.querySelector("[data-error-for='']");
    const named = base && base !== "expected_version" ? `${fieldLabel(base, action)}：` : "";
    slot.textContent = slot.dataset.errorFor ? message : named + message;
    const input = base && form.querySelector(`[name="${base}"]`);
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  function clearErrors(form) {
    form.querySelectorAll(".error").forEach((e) => { e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  }

  async function uploadPhotos(files) {
    const ids = [];
    for (const file of files) {
      const data = new FormData(); data.append("file", file);
      ids.push((await api("/api/v1/photos", {method: "POST", form: data})).id);
    }
    return ids;
  }

  async function submitAction(action, detail, body) {
    const c = detail.case;
    if (action === "merge") {
      const wanted = body.target.toUpperCase();
      const found = await api(`/api/v1/cases?q=${encodeURIComponent(wanted)}&limit=5`);
      const target = found.items.find((x) => x.number === wanted || String(x.id) === wanted);
      if (!target) throw Object.assign(new Error(T("没有该案件，请核对编号", "No such case; check the number")), {field: "target"});
      if (target.id === c.id) throw Object.assign(new Error(T("不能并入案件本身", "A case cannot merge into itself")), {field: "target"});
      await api(`/api/v1/cases/${target.id}/merge`, {method: "POST", body: {source: c.number, reason: body.reason}});
      return T(`已并入 ${target.number}`, `Merged into ${target.number}`);
    }
    const payload = {...body, expected_version: c.version};
    if (payload.photos) payload.photos = await uploadPhotos(payload.photos);
    const out = await api(`/api/v1/cases/${c.id}/actions/${action}`, {method: "POST", body: payload});
    return T(`${actionLabel(action)}成功：${out.number} 现为「${caseState(out.state)}」`,
             `${actionLabel(action)} done: ${out.number} is now ${caseState(out.state)}`);
  }

  async function openForm(panel, action, detail, suggestions) {
    const host = panel.querySelector(".action-form");
    panel.querySelectorAll(".actions button[data-action]").forEach((b) => b.setAttribute("aria-expanded", String(b.dataset.action === action)));
    const title = action === "dispatch" && detail.case.state === "returned" ? T("重新派遣", "Re-dispatch") : actionLabel(action);
    const form = h("form", {class: "card inset", novalidate: true, "data-action": action, "aria-label": title});
    form.append(h("h3", {}, title));
    for (const name of fieldsFor(action)) form.append(await widget(name, action, detail, suggestions));
    if (!fieldsFor(action).length) form.append(h("p", {class: "note"}, T("确认执行该操作？", "Go ahead with this action?")));
    const submit = h("button", {type: "submit", class: ["reject", "rework", "suspend"].includes(action) ? "danger" : "primary"},
                     T(`确认${title}`, `Confirm: ${title}`));
    form.append(h("p", {class: "error", "data-error-for": "", role: "alert"}),
      h("div", {class: "row"}, submit, h("button", {type: "button", onclick: () => closeForm(panel)}, T("取消", "Cancel"), " ", kbd("Esc")),
        h("span", {class: "note"}, kbd("Ctrl"), "+", kbd("Enter"), T(" 提交", " submits"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const {body, missing} = readForm(form, action);
      if (missing.length) {
        for (const name of missing.reverse()) showError(form, action, name, T(`请填写${fieldLabel(name, action)}`, `Please fill in: ${fieldLabel(name, action)}`));
        return;
      }
      submit.disabled = true;
      try {
        const message = await submitAction(action, detail, body);
        toast(message, "ok");
        await panel._refresh();
      } catch (e) {
        showError(form, action, e.field, e.message);
      } finally { submit.disabled = false; }
    });
    host.replaceChildren(form);
    const first = form.querySelector("select, input, textarea") || submit;
    first.focus();
  }

  function closeForm(panel) {
    const host = panel.querySelector(".action-form");
    if (!host || !host.firstChild) return false;
    host.replaceChildren();
    panel.querySelectorAll(".actions button[aria-expanded]").forEach((b) => b.setAttribute("aria-expanded", "false"));
    return true;
  }

  // --- the classifier's word on a report (its suggested categories and why it waits) -------------------------
  const REPORT_ID = /^AJ(\d{8}[0-9A-Z]{8})$/;  // a case opened for a report carries the report's number
  async function triageOf(reportId) {
    if (!["dispatcher", "admin", "leader"].includes(CTX.role)) return null;
    try { return (await api(`/api/v1/reports/${encodeURIComponent(reportId)}`)).triage || null; } catch (_e) { return null; }
  }
  async function suggestionsOf(triage) {
    const classify = triage && triage.classify;
    if (!classify) return [];
    const cats = await categories().catch(() => []);
    const named = (code, p) => {
      const found = cats.find((x) => x.code === code);
      return found ? {code, confidence: p, name: T(found.name, found.name_en || found.name)} : null;
    };
    if (classify.by === "channel") return [named(classify.category_code, 1)].filter(Boolean).map((s) => ({...s, accepted: true}));
    const top = classify.top && classify.top.length ? classify.top : [[classify.suggested, classify.confidence]];
    // `accepted`: confident enough by the platform's own threshold (the triage worker decided it, not this page).
    return top.map(([code, p]) => named(code, p)).filter((s) => s && s.confidence >= 0.01)
      .map((s) => ({...s, accepted: Boolean(classify.accepted) && s.code === classify.suggested}));
  }

  // --- the case panel ------------------------------------------------------------------------------------
  function section(title, ...children) { return h("section", {class: "case-part"}, h("h3", {}, title), ...children); }

  function badges(c) {
    return h("span", {class: "badges"},
      h("span", {class: "badge state-badge", "data-state": c.state}, caseState(c.state)),
      c.suspended ? h("span", {class: "badge yellow"}, T("挂账中", "Suspended")) : null,
      c.overdue ? h("span", {class: "badge overdue"}, T("超期", "Overdue")) : null,
      c.escalation_level ? h("span", {class: "badge orange"}, T(`督办 ${c.escalation_level} 级`, `Escalated L${c.escalation_level}`)) : null);
  }

  async function facts(c) {
    const rows = [
      [T("分类", "Category"), (await categoryName(c.category_code)) || T("未分类", "Not classified")],
      [T("区域", "Region"), await regionOf(c.region_code).then((r) => `${r.name}（${r.code}）`).catch(() => c.region_code)], [T("地址", "Address"), c.address || "—"],
      [T("来源", "Channel"), channelLabel(c.channel)], [T("上报次数", "Reports"), c.report_count],
      [T("受理时间", "Received"), fmtTime(c.received_at)],
      [T("本环节时限", "Stage due"), c.stage_due_at ? fmtTime(c.stage_due_at) : "—"],
      [T("办结时限", "Case due"), c.due_at ? fmtTime(c.due_at) : "—"],
      [T("承办部门", "Department"), (await departmentName(c.department_id)) || "—"],
    ];
    return h("dl", {class: "facts"}, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
  }

  function photo(id, alt) {
    return h("a", {href: `/api/v1/photos/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener"},
      h("img", {src: `/api/v1/photos/${encodeURIComponent(id)}`, alt, loading: "lazy", class: "photo"}));
  }

  function reportsPart(detail, panel, triages) {
    const canSplit = RULES.merge.roles.includes(CTX.role) && detail.reports.length > 1;
    const items = detail.reports.map((r, i) => {
      const triage = triages[i];
      const waiting = triage && triage.deadline && triage.deadline.waiting_because;
      const li = h("li", {class: "report"},
        h("div", {class: "row"}, h("strong", {}, r.id), h("span", {class: "badge"}, channelLabel(r.channel)),
          h("span", {class: "note"}, fmtTime(r.received_at)), r.reporter_name ? h("span", {class: "note"}, r.reporter_name) : null,
          waiting && WAITING[waiting] ? h("span", {class: "badge yellow"}, T(WAITING[waiting][0], WAITING[waiting][1])) : null),
        h("p", {class: "report-text"}, r.text),
        r.photos && r.photos.length ? h("div", {class: "photos"}, r.photos.map((p, j) => photo(p, T(`上报照片 ${j + 1}`, `Report photo ${j + 1}`)))) : null);
      if (canSplit) {
        const slot = h("div", {class: "split-slot"});
        li.append(h("button", {type: "button", class: "small", onclick: () => splitForm(slot, r, panel)}, T("拆分为新案件", "Split into a new case")), slot);
      }
      return li;
    });
    return section(T(`全部上报（${detail.reports.length}）`, `All reports (${detail.reports.length})`),
                   items.length ? h("ul", {class: "reports"}, items) : h("p", {class: "note"}, T("暂无上报", "No reports")));
  }

  function splitForm(slot, report, panel) {
    const id = `split-${report.id}`;
    const error = h("p", {class: "error", id: `${id}-error`, "data-error-for": "reason", role: "alert"});
    const reason = h("textarea", {id, name: "reason", required: true, maxlength: "2000", "aria-describedby": `${id}-error`});
    const form = h("form", {class: "inset", novalidate: true},
      h("label", {for: id}, T("拆分原因（该上报被误并入本案件）", "Why split it (it was fused by mistake)")), reason, error,
      h("div", {class: "row"}, h("button", {type: "submit", class: "primary"}, T("确认拆分", "Confirm split")),
        h("button", {type: "button", onclick: () => slot.replaceChildren()}, T("取消", "Cancel"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      if (!reason.value.trim()) { error.textContent = T("请填写拆分原因", "Please say why it is split"); reason.focus(); return; }
      try {
        const out = await api(`/api/v1/reports/${encodeURIComponent(report.id)}/split`, {method: "POST", body: {reason: reason.value.trim()}});
        toast(T(`已拆分为新案件 ${out.number}`, `Split into new case ${out.number}`), "ok");
        await panel._refresh();
      } catch (e) { error.textContent = (e.field && e.field !== "reason" ? fieldLabel(e.field) + "：" : "") + e.message; }
    });
    slot.replaceChildren(form);
    reason.focus();
  }

  async function describeData(t) {
    const d = t.data || {};
    const parts = [];
    if (d.category_code) parts.push(T("分类 ", "category ") + await categoryName(d.category_code));
    if (d.department_id && t.action === "dispatch") parts.push(T("主办 ", "lead ") + await departmentName(d.department_id));
    if (d.assist_department_ids && d.assist_department_ids.length) {
      const names = await Promise.all(d.assist_department_ids.map(departmentName));
      parts.push(T("协办 ", "assisting ") + names.join("、"));
    }
    if (d.hours) parts.push(T(`${d.hours} 工作小时`, `${d.hours} working hours`));
    if (d.approved !== undefined) parts.push(d.approved ? T("批准", "approved") : T("不批准", "denied"));
    if (d.merged_into_number) parts.push(T("并入 ", "into ") + d.merged_into_number);
    if (d.merged_from_number) parts.push(T("来自 ", "from ") + d.merged_from_number);
    if (d.new_case_number) parts.push(T("新案件 ", "new case ") + d.new_case_number);
    if (d.from_case_number) parts.push(T("原案件 ", "from case ") + d.from_case_number);
    if (d.report) parts.push(T("上报 ", "report ") + d.report);
    if (d.level) parts.push(T(`${d.level} 级`, `level ${d.level}`));
    if (d.paused_working_hours !== undefined) parts.push(T(`暂停 ${d.paused_working_hours} 工作小时`, `paused ${d.paused_working_hours} h`));
    return parts.join("；");
  }

  async function timelinePart(timeline) {
    const rows = await Promise.all(timeline.map(async (t) => h("tr", {},
      h("td", {class: "nowrap"}, fmtTime(t.at)), h("td", {}, actionLabel(t.action)),
      h("td", {}, t.from_state && t.from_state !== t.to_state ? `${caseState(t.from_state)} → ${caseState(t.to_state)}` : caseState(t.to_state)),
      h("td", {}, actorName(t.actor), h("br"), h("span", {class: "note"}, roleLabel(t.role))),
      h("td", {}, [t.reason, await describeData(t)].filter(Boolean).join("；") || "—"))));
    return section(T("办理过程与审计记录", "Timeline and audit trail"),
      h("div", {class: "scroll"}, h("table", {class: "timeline"},
        h("caption", {class: "note"}, T("每一步：何时、何人、以何角色、为何。", "Each step: when, who, in which role, and why.")),
        h("thead", {}, h("tr", {}, ["时间|Time", "操作|Action", "状态|State", "操作人|By", "理由与说明|Why"]
          .map((w) => h("th", {scope: "col"}, T(...w.split("|")))))),
        h("tbody", {}, rows))));
  }

  async function workPart(detail) {
    const c = detail.case;
    const parts = [];
    if (c.result || (c.result_photos && c.result_photos.length)) {
      parts.push(h("p", {}, h("strong", {}, T("处置结果：", "Result: ")), c.result || ""),
        h("div", {class: "photos"}, (c.result_photos || []).map((p, i) => photo(p, T(`处置照片 ${i + 1}`, `Result photo ${i + 1}`)))));
    }
    if (detail.tasks.length) {
      const rows = await Promise.all(detail.tasks.map(async (t) => h("li", {},
        `${T("第", "Round ")}${t.round}${T("轮 ", ": ")}${await departmentName(t.department_id)}`
        + `（${t.role === "lead" ? T("主办", "lead") : T("协办", "assisting")}，${taskState(t.state)}）${t.result ? "：" + t.result : ""}`)));
      parts.push(h("ul", {class: "plain"}, rows));
    }
    for (const e of detail.extensions) {
      parts.push(h("p", {class: "note"}, T(`延期申请 ${e.hours} 工作小时（${taskState(e.state)}）：${e.reason}`,
                                          `Extension of ${e.hours} working hours (${taskState(e.state)}): ${e.reason}`)));
    }
    for (const e of detail.escalations) {
      parts.push(h("p", {class: "note"}, T(`督办 ${e.level} 级 ${fmtTime(e.at)}：${e.reason}`, `Escalated L${e.level} ${fmtTime(e.at)}: ${e.reason}`)));
    }
    return parts.length ? section(T("处置情况", "Handling"), parts) : null;
  }

  // A small map with no tiles: the districts as the base, the case's region highlighted, its point if known.
  async function drawMap(panel, c) {
    const box = panel.querySelector(".case-map");
    if (!box || !window.L) return;
    if (panel._map) { panel._map.remove(); panel._map = null; }
    const map = L.map(box, {attributionControl: false, zoomSnap: 0.25, zoomAnimation: false, fadeAnimation: false});
    panel._map = map;
    map.setView([36.8, 118.05], 9);
    const layers = [];
    try {
      const base = L.geoJSON(await districts(), {style: {color: "#6b7a90", weight: 1, fillColor: "#dfe6f0", fillOpacity: 0.5},
        onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name)}).addTo(map);
      layers.push(base);
    } catch (_e) { /* the map is a help, not the case; the panel stays usable without it */ }
    try {
      const region = await regionOf(c.region_code);
      if (region.geometry) {
        layers.push(L.geoJSON(region.geometry, {style: {color: "#c81e1e", weight: 2, fillColor: "#f3b0b0", fillOpacity: 0.35}})
          .bindTooltip(region.name).addTo(map));
      }
    } catch (_e) { /* outside the visitor's regions: draw what we have */ }
    let point = null;
    if (c.lat !== null && c.lng !== null) {
      point = L.circleMarker([c.lat, c.lng], {radius: 8, color: "#fff", weight: 2, fillColor: "#0b3d91", fillOpacity: 1})
        .bindTooltip(c.address || c.number).addTo(map);
    }
    if (panel._map !== map) return;  // another case was opened meanwhile
    const target = layers.length > 1 ? layers[layers.length - 1] : layers[0];
    map.invalidateSize({animate: false});  // the panel was laid out while the data loaded
    if (point && layers.length < 2) map.setView(point.getLatLng(), 15, {animate: false});
    else if (target && target.getBounds().isValid()) map.fitBounds(target.getBounds(), {padding: [10, 10], animate: false});
    if (point && layers.length >= 2) point.bringToFront();
  }

  async function renderCase(panel, caseId, options = {}) {
    panel.dataset.caseId = caseId;
    panel.setAttribute("aria-busy", "true");
    let detail, timeline;
    try {
      [detail, timeline] = await Promise.all([api(`/api/v1/cases/${caseId}`), api(`/api/v1/cases/${caseId}/timeline`)]);
    } catch (e) {
      panel.replaceChildren(h("p", {class: "error", role: "alert"}, e.message));
      panel.removeAttribute("aria-busy");
      return null;
    }
    if (String(panel.dataset.caseId) !== String(caseId)) return null;  // the visitor moved on
    const c = detail.case;
    const triages = await Promise.all(detail.reports.slice(0, 10).map((r) => triageOf(r.id)));
    const suggestions = await suggestionsOf(triages.find(Boolean));
    const allowed = allowedActions(detail);
    const actionBar = h("div", {class: "actions row", role: "toolbar", "aria-label": T("可执行的操作", "Actions you can take")},
      allowed.length ? allowed.map((a) => {
        const title = a === "dispatch" && c.state === "returned" ? T("重新派遣", "Re-dispatch") : actionLabel(a);
        const key = ACTIONS[a] && ACTIONS[a][2];
        return h("button", {type: "button", "data-action": a, "data-key": key, "aria-keyshortcuts": key, "aria-expanded": "false",
                            class: ["register", "dispatch", "accept", "handle"].includes(a) ? "primary" : null,
                            onclick: () => openForm(panel, a, detail, suggestions)}, title, key ? [" ", kbd(key)] : null);
      }) : h("p", {class: "note"}, T("当前状态下您没有可执行的操作。", "Nothing for you to do in this state.")));
    const header = h("header", {class: "case-head"},
      h("h2", {tabindex: "-1", class: "case-title"}, h("span", {class: "case-number"}, c.number), " ", c.title),
      badges(c),
      options.standaloneLink ? h("a", {href: `/workbench/cases/${c.id}`, class: "note"}, T("在单独页面打开", "Open on its own page")) : null);
    const parts = [header, h("p", {class: "description"}, c.description), await facts(c), actionBar, h("div", {class: "action-form"})];
    if (suggestions.length && c.state === "received") {
      parts.splice(2, 0, h("p", {class: "note suggestion"}, T("智能分类建议：", "Classifier suggests: ") +
        suggestions.map((s) => `${s.name}（${pct(s.confidence)}）`).join("，")));
    }
    parts.push(h("div", {class: "grid2 case-grid"},
      section(T("位置", "Location"), h("div", {class: "case-map"}),
        c.lat === null ? h("p", {class: "note"}, T("无坐标，显示所属区域。", "No coordinates: its region is shown.")) : null),
      reportsPart(detail, panel, triages)));
    const work = await workPart(detail);
    if (work) parts.push(work);
    parts.push(await timelinePart(timeline));
    if (String(panel.dataset.caseId) !== String(caseId)) return null;
    panel.replaceChildren(...parts);
    panel.removeAttribute("aria-busy");
    panel._detail = detail;
    panel._refresh = async () => {
      await renderCase(panel, caseId, options);
      // The form that had the focus is gone: keep the keyboard in the case, not lost on the page.
      if (!document.activeElement || document.activeElement === document.body) panel.querySelector(".case-title")?.focus();
      if (options.onChange) await options.onChange();
    };
    drawMap(panel, c);
    return detail;
  }

  // Action shortcut keys inside an open case panel (and Esc / Ctrl+Enter for its form).
  function panelKeys(panel, event) {
    const form = panel.querySelector(".action-form form");
    if (event.key === "Escape" && form) { event.preventDefault(); closeForm(panel); panel.querySelector(".case-title")?.focus(); return true; }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form && form.contains(event.target)) {
      event.preventDefault(); form.requestSubmit(); return true;
    }
    if (editing(event.target) || event.ctrlKey || event.metaKey || event.altKey || event.key.length !== 1) return false;
    const button = panel.querySelector(`.actions button[data-key="${CSS.escape(event.key.toLowerCase())}"]`);
    if (!button) return false;
    event.preventDefault(); button.click(); return true;
  }

  // --- the workbench: tabs, search, the list, the keyboard ------------------------------------------------
  const TABS = {
    triage: () => "/api/v1/workbench/triage-queue", overdue: () => "/api/v1/workbench/overdue",
    soon: () => "/api/v1/workbench/soon-due", search: (q) => `/api/v1/cases${q ? "?" + q : ""}`,
  };

  function startWorkbench() {
    const rows = document.getElementById("wb-rows");
    const panel = document.getElementById("case-panel");
    const searchForm = document.getElementById("wb-search");
    const state = {tab: "triage", offset: 0, total: 0, query: "", items: [], index: -1, openId: null};
    const tabs = [...document.querySelectorAll("[role=tab]")];

    function url(tab, limit, offset) {
      const base = TABS[tab](state.query);
      return `${base}${base.includes("?") ? "&" : "?"}limit=${limit}&offset=${offset}`;
    }

    async function counts() {
      for (const tab of ["triage", "overdue", "soon"]) {
        api(url(tab, 1, 0)).then((p) => { document.querySelector(`[data-count=${tab}]`).textContent = `(${p.total})`; }).catch(() => {});
      }
    }

    function select(index, focus = true) {
      const trs = [...rows.querySelectorAll("tbody tr")];
      if (!trs.length) return;
      state.index = Math.max(0, Math.min(index, trs.length - 1));
      trs.forEach((tr, i) => {
        const on = i === state.index;
        tr.classList.toggle("selected", on); tr.setAttribute("aria-selected", String(on)); tr.tabIndex = on ? 0 : -1;
      });
      if (focus) { trs[state.index].focus(); trs[state.index].scrollIntoView({block: "nearest"}); }
    }

    async function open(index) {
      const item = state.items[index];
      if (!item) return;
      select(index, false);
      state.openId = item.id;
      rows.querySelectorAll("tbody tr").forEach((tr, i) => tr.classList.toggle("open", i === index));
      const detail = await renderCase(panel, item.id, {standaloneLink: true, onChange: () => load(false)});
      if (detail) panel.querySelector(".case-title").focus();
    }

    async function hintRow(item, cell) {
      const m = REPORT_ID.exec(item.number);
      if (!m) return;
      const triage = await triageOf("R" + m[1]);
      const suggestions = await suggestionsOf(triage);
      const waiting = triage && triage.deadline && triage.deadline.waiting_because;
      const top = suggestions[0];
      cell.replaceChildren(
        top ? h("span", {class: "suggest"}, T("建议：", "Suggested: "), h("strong", {}, top.name), ` ${pct(top.confidence)}`) : null,
        waiting && WAITING[waiting] ? h("span", {class: "badge yellow"}, T(WAITING[waiting][0], WAITING[waiting][1])) : null);
    }

    async function render(page) {
      state.items = page.items; state.total = page.total;
      document.querySelector(`[data-count=${state.tab}]`).textContent = `(${page.total})`;
      const pages = Math.max(1, Math.ceil(page.total / PAGE_SIZE));
      const current = Math.floor(state.offset / PAGE_SIZE) + 1;
      document.getElementById("wb-page").textContent = T(`第 ${current}/${pages} 页，共 ${page.total} 条`, `Page ${current} of ${pages}, ${page.total} cases`);
      document.getElementById("wb-prev").disabled = state.offset === 0;
      document.getElementById("wb-next").disabled = state.offset + PAGE_SIZE >= page.total;
      if (!page.items.length) {
        rows.replaceChildren(h("p", {class: "note empty"}, T("这里没有案件。", "No cases here.")));
        return;
      }
      const body = h("tbody", {});
      page.items.forEach((item, i) => {
        const hint = h("div", {class: "hint"});
        const tr = h("tr", {tabindex: "-1", "aria-selected": "false", "data-case-id": item.id, "data-number": item.number,
                            onclick: (event) => { if (!(event.ctrlKey || event.metaKey)) { event.preventDefault(); open(i); } }},
          h("td", {}, h("a", {href: `/workbench/cases/${item.id}`, tabindex: "-1", class: "case-number"}, item.number),
            h("div", {class: "row-title"}, item.title), hint),
          h("td", {}, badges(item)),
          h("td", {class: "nowrap"}, h("span", {class: "note"}, T("受理 ", "in ")), fmtTime(item.received_at),
            item.stage_due_at ? [h("br"), h("span", {class: "note"}, T("时限 ", "due ")), fmtTime(item.stage_due_at)] : null));
        if (state.openId === item.id) tr.classList.add("open");
        body.append(tr);
        if (state.tab === "triage" || item.state === "received") hintRow(item, hint);
      });
      rows.replaceChildren(h("table", {class: "case-rows", "aria-label": T("案件", "Cases")},
        h("thead", {}, h("tr", {}, h("th", {scope: "col"}, T("案件", "Case")), h("th", {scope: "col"}, T("状态", "State")),
          h("th", {scope: "col"}, T("时间", "Time")))), body));
    }

    async function load(focusList = true) {
      rows.setAttribute("aria-busy", "true");
      try {
        await render(await api(url(state.tab, PAGE_SIZE, state.offset)));
        const keep = state.items.findIndex((x) => x.id === state.openId);
        if (state.items.length) select(keep >= 0 ? keep : Math.min(Math.max(state.index, 0), state.items.length - 1), focusList);
      } catch (e) {
        rows.replaceChildren(h("p", {class: "error", role: "alert"}, e.message));
      } finally { rows.removeAttribute("aria-busy"); }
      counts();
    }

    function switchTab(tab, focusList = true) {
      state.tab = tab; state.offset = 0; state.index = 0;
      tabs.forEach((b) => { const on = b.dataset.tab === tab; b.setAttribute("aria-selected", String(on)); b.tabIndex = on ? 0 : -1; });
      rows.setAttribute("aria-labelledby", `tab-${tab}`);
      return load(focusList);
    }

    const rowIndex = (node) => [...rows.querySelectorAll("tbody tr")].indexOf(node.closest("tr"));
    // Focus that arrives by Tab or a click is the selection too, so Enter opens the row that has the focus.
    rows.addEventListener("focusin", (event) => { const i = rowIndex(event.target); if (i >= 0 && i !== state.index) select(i, false); });

    tabs.forEach((b, i) => {
      b.addEventListener("click", () => switchTab(b.dataset.tab, false));
      b.addEventListener("keydown", (event) => {  // the ARIA tabs pattern: arrows move between tabs
        if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
        event.preventDefault(); event.stopPropagation();
        const next = tabs[(i + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        next.focus(); switchTab(next.dataset.tab, false);
      });
    });
    document.getElementById("wb-prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(false); });
    document.getElementById("wb-next").addEventListener("click", () => { state.offset += PAGE_SIZE; load(false); });
    searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(searchForm)) if (String(v).trim()) params.set(k, String(v).trim());
      state.query = params.toString();
      switchTab("search");
    });
    searchForm.addEventListener("reset", () => { state.query = ""; setTimeout(() => { if (state.tab === "search") switchTab("search", false); }); });
    const help = document.getElementById("wb-help");
    const helpToggle = document.getElementById("wb-help-toggle");
    const toggleHelp = () => { help.hidden = !help.hidden; helpToggle.setAttribute("aria-expanded", String(!help.hidden)); };
    helpToggle.addEventListener("click", toggleHelp);

    document.addEventListener("keydown", (event) => {
      if (panel.contains(event.target) || !editing(event.target)) { if (panelKeys(panel, event)) return; }
      if (event.key === "Escape" && searchForm.contains(event.target)) { event.target.blur(); select(state.index); return; }
      if (editing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      const inList = rows.contains(event.target) || event.target === document.body;
      const key = event.key;
      if (key === "j" || (key === "ArrowDown" && inList)) { event.preventDefault(); select(state.index + 1); }
      else if (key === "k" || (key === "ArrowUp" && inList)) { event.preventDefault(); select(state.index - 1); }
      else if (key === "Enter" && rows.contains(event.target)) { event.preventDefault(); open(rowIndex(event.target)); }
      else if (["1", "2", "3", "4"].includes(key)) { event.preventDefault(); switchTab(["triage", "overdue", "soon", "search"][Number(key) - 1]); }
      else if (key === "/") { event.preventDefault(); document.getElementById("f-q").focus(); }
      else if (key === "?") { event.preventDefault(); toggleHelp(); }
      else if (key === "[" && !document.getElementById("wb-prev").disabled) { document.getElementById("wb-prev").click(); }
      else if (key === "]" && !document.getElementById("wb-next").disabled) { document.getElementById("wb-next").click(); }
    });

    // The filters' choices come from the same API as everything else.
    categories().then((cats) => {
      const select = document.getElementById("f-category");
      select.append(...cats.map((x) => h("option", {value: x.code}, `${"　".repeat(Math.max(0, x.level - 1))}${x.code} ${T(x.name, x.name_en || x.name)}`)));
    }).catch(() => {});
    Promise.all([api("/api/v1/regions?level=district&limit=100"), api("/api/v1/regions?level=street&limit=500")]).then(([d, s]) => {
      const select = document.getElementById("f-region");
      for (const district of d.items) {
        select.append(h("option", {value: district.code}, district.name),
          ...s.items.filter((x) => x.parent_code === district.code).map((x) => h("option", {value: x.code}, `　${x.name}`)));
      }
    }).catch(() => {});
    switchTab("triage");
  }

  function startCasePage(caseId) {
    const panel = document.getElementById("case-panel");
    document.addEventListener("keydown", (event) => panelKeys(panel, event));
    renderCase(panel, caseId);
  }

  window.CityCase = {h, kbd, renderCase, allowedActions, caseState, badges, departmentName, panelKeys, startWorkbench, startCasePage,
                     ctx: CTX};
})();
