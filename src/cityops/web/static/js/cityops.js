// Shared helpers for every page: the two languages, JSON calls with the platform's error format, a toast.
(function () {
  "use strict";
  const lang = () => (window.CITYOPS && window.CITYOPS.lang) || "zh-CN";

  // T("中文", "English"): the visitor's language, like t() in the templates.
  window.T = (zh, en) => (lang() === "en" ? en : zh);

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message || T("请求失败", "The request failed") + ` (${status})`);
      this.status = status; this.code = error.code; this.field = error.field;
    }
  }
  window.ApiError = ApiError;

  // api(path, {method, body, form}) → parsed JSON (or null). Errors carry the server's message in the visitor's
  // language, and the field it names.
  window.api = async (path, options = {}) => {
    const init = {method: options.method || "GET", headers: {"Accept-Language": lang()}, credentials: "same-origin"};
    if (options.form) { init.body = options.form; }
    else if (options.body !== undefined) { init.body = JSON.stringify(options.body); init.headers["Content-Type"] = "application/json"; }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_e) { data = null; }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  };

  // el("tag", {class, text, onclick, attr: value}, ...children): a DOM node; text always goes in as text, never
  // as HTML. Null, undefined and false attributes or children are left out; nested child arrays are flattened.
  window.el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  // The JSON a page template put in <script type="application/json" id="…">, or null.
  window.pageData = (id) => { const node = document.getElementById(id); return node ? JSON.parse(node.textContent) : null; };

  window.toast = (message, kind = "ok") => {
    const box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message; box.className = "show " + kind;
    clearTimeout(box._timer); box._timer = setTimeout(() => { box.className = ""; }, 4000);
  };

  // Times are stored in UTC and shown in the city's time (Asia/Shanghai).
  window.fmtTime = (iso) => {
    if (!iso) return "";
    return new Date(iso).toLocaleString(lang() === "en" ? "en-GB" : "zh-CN", {timeZone: "Asia/Shanghai", hour12: false,
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"});
  };

  window.STATE_LABELS = {
    received: ["受理", "Received"], registered: ["立案", "Registered"], rejected: ["不予立案", "Rejected"],
    dispatched: ["派遣", "Dispatched"], returned: ["退回", "Returned"], in_progress: ["处置中", "In progress"],
    handled: ["已处置", "Handled"], verified: ["核查通过", "Verified"], reworked: ["返工", "Reworked"],
    closed: ["结案", "Closed"], followed_up: ["回访", "Followed up"], suspended: ["挂账", "Suspended"],
  };
  window.stateLabel = (state) => { const l = STATE_LABELS[state]; return l ? T(l[0], l[1]) : state; };
})();
