// Desk Intake agents' dashboard. Plain DOM, no inline script (the CSP forbids it).
// Text from customers is always set with textContent; email HTML arrives already sanitised by
// the server (nh3) and is checked once more here before it is attached to the page.
"use strict";

(function () {
  const { t } = window.I18N;
  const TOKEN_KEY = "deskintake.token";
  const LANG_KEY = "deskintake.ui-lang";
  const POLL_MS = 5000;
  const PAGE = 25;

  const CATEGORIES = ["order_pending", "product_not_received", "payment_refund", "card_fraud",
    "account_security", "account_access", "billing_inquiry", "credit_limit", "rewards_points",
    "profile_update", "complaint", "sales_inquiry", "feedback", "general_inquiry", "spam"];
  const PRIORITIES = ["urgent", "high", "normal", "low", "none"];
  const STATUSES = ["open", "waiting", "resolved", "closed"];
  const CHANNELS = ["email", "whatsapp", "telegram", "livechat"];
  const LANGS = ["id", "zh", "en"];

  const state = {
    me: null,
    status: "open", // a status, or "" for all
    filters: {},
    q: "",
    tickets: [],
    cursor: null,
    partial: false,
    selected: 0,
    openId: null,
    detail: null,
    counts: null,
    composerMode: "reply",
    htmlView: {}, // message id -> "html" | "text"
    busy: false,
    lastRefresh: null,
  };

  const $ = (sel) => document.querySelector(sel);

  // -- DOM helpers: text only ----------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Email HTML: the server sanitised it with nh3. Parse it inert (DOMParser runs nothing and
  // loads nothing), keep only an allow-list, then adopt the nodes into the page.
  const SAFE_TAGS = new Set(["a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt",
    "u", "ul", "center", "font", "section", "article", "header", "footer"]);
  const SAFE_ATTRS = new Set(["href", "title", "colspan", "rowspan", "align", "target", "rel", "cite"]);

  function safeFragment(html) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const walk = (node) => {
      for (const child of Array.from(node.children)) {
        const tag = child.tagName.toLowerCase();
        if (!SAFE_TAGS.has(tag)) {
          child.replaceWith(...(["script", "style", "iframe", "object", "embed", "svg", "math", "template"]
            .includes(tag) ? [] : Array.from(child.childNodes)));
          continue;
        }
        for (const attr of Array.from(child.attributes)) {
          const name = attr.name.toLowerCase();
          const bad = !SAFE_ATTRS.has(name) ||
            (name === "href" && !/^(https?:|mailto:)/i.test(attr.value.trim()));
          if (bad) child.removeAttribute(attr.name);
        }
        if (tag === "a") { child.setAttribute("rel", "noopener noreferrer nofollow"); child.setAttribute("target", "_blank"); }
        walk(child);
      }
    };
    walk(doc.body);
    const fragment = document.createDocumentFragment();
    for (const node of Array.from(doc.body.childNodes)) fragment.append(document.adoptNode(node));
    return fragment;
  }

  // -- API -----------------------------------------------------------------------------

  class AuthNeeded extends Error {}

  async function api(path, options) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) { showLogin(); throw new AuthNeeded("no token"); }
    const init = Object.assign({ headers: {} }, options || {});
    init.headers = Object.assign({ Authorization: "Bearer " + token, Accept: "application/json" }, init.headers);
    if (init.body !== undefined && typeof init.body !== "string") {
      init.body = JSON.stringify(init.body);
      init.headers["Content-Type"] = "application/json";
    }
    const response = await fetch("/api" + path, init);
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(t("wrong_token"));
      throw new AuthNeeded("401");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.message || response.statusText);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  function listPath(limit, cursor) {
    const params = new URLSearchParams();
    if (state.status) params.set("status", state.status);
    for (const [key, value] of Object.entries(state.filters)) if (value) params.set(key, value);
    if (state.q) params.set("q", state.q);
    params.set("limit", String(limit));
    if (cursor) params.set("cursor", cursor);
    return "/tickets?" + params.toString();
  }

  // -- login ---------------------------------------------------------------------------

  function showLogin(message) {
    const dialog = $("#login");
    const error = $("#login-error");
    error.hidden = !message;
    error.textContent = message || "";
    if (!dialog.open) dialog.showModal();
    $("#token").focus();
  }

  async function onLogin(event) {
    event.preventDefault();
    const token = $("#token").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    try {
      state.me = await api("/me");
    } catch (error) {
      if (!(error instanceof AuthNeeded)) toast(t("error", { msg: error.message }), "error");
      return;
    }
    $("#token").value = "";
    $("#login").close();
    start();
  }

  // -- rendering: sidebar --------------------------------------------------------------

  function label(prefix, value) { return value ? t(prefix + value) : ""; }

  function countsPath() {
    const brand = state.filters && state.filters.brand;
    return "/tickets/counts" + (brand ? "?brand=" + encodeURIComponent(brand) : "");
  }

  function fillSelect(select, values, prefix, anyLabel) {
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: anyLabel }),
      ...values.map(([value, text]) => el("option", { value: value, text: text || t(prefix + value) })));
    select.value = chosen;
  }

  function renderFilters() {
    // The brands this agent works for (from /api/me); the API never lists another brand's.
    fillSelect($("#f-brand"), ((state.me && state.me.brands) || []).map((b) => [b.id, b.name]), "", t("any"));
    fillSelect($("#f-category"), CATEGORIES.map((c) => [c]), "cat_", t("any"));
    fillSelect($("#f-priority"), PRIORITIES.map((p) => [p]), "pri_", t("any"));
    fillSelect($("#f-channel"), CHANNELS.map((c) => [c]), "ch_", t("any"));
    fillSelect($("#f-lang"), LANGS.map((l) => [l]), "lang_", t("any"));
    fillSelect($("#f-assignee"), [["me", t("me")], ["-", t("unassigned")]], "", t("anyone"));
    fillSelect($("#f-sla"), [["breached", t("sla_breached")], ["due_soon", t("sla_due_soon")]], "", t("any"));
    const sort = $("#f-sort");
    const chosen = sort.value || "newest";
    sort.replaceChildren(el("option", { value: "newest", text: t("newest") }), el("option", { value: "oldest", text: t("oldest") }));
    sort.value = chosen;
  }

  function renderCounts() {
    const counts = state.counts || { by_status: {}, by_category: {} };
    const list = $("#status-list");
    const items = STATUSES.map((s) => [s, t("status_" + s), counts.by_status[s]]);
    const total = Object.values(counts.by_status).reduce((a, b) => a + b, 0);
    items.push(["", t("all"), total]);
    list.replaceChildren(...items.map(([value, text, n]) => el("li", {},
      el("button", {
        type: "button", class: "status-tab" + (state.status === value ? " active" : ""),
        title: ["resolved", "closed", ""].includes(value) && counts.closed_since ? t("counted_since", { time: when(counts.closed_since) }) : null,
        dataset: { status: value }, "aria-pressed": state.status === value ? "true" : "false",
        onclick: () => { state.status = value; reloadList(); renderCounts(); },
      }, el("span", { text: text }), el("span", { class: "count", text: n === undefined ? "" : String(n) })))));
    const categories = $("#category-counts");
    const entries = Object.entries(counts.by_category).sort((a, b) => b[1] - a[1]);
    categories.replaceChildren(...entries.map(([cat, n]) => el("li", {},
      el("button", {
        type: "button", class: "cat-link" + (state.filters.category === cat ? " active" : ""),
        dataset: { category: cat },
        onclick: () => {
          const same = state.filters.category === cat;
          $("#f-category").value = same ? "" : cat;
          readFilters();
          reloadList();
        },
      }, el("span", { class: "dot cat-" + cat }), el("span", { text: t("cat_" + cat) }),
      el("span", { class: "count", text: String(n) })))));
  }

  // -- rendering: list -----------------------------------------------------------------

  function duration(ms) {
    const minutes = Math.round(Math.abs(ms) / 60000);
    if (minutes < 60) return minutes + (I18N.lang === "id" ? " mnt" : "m");
    const hours = Math.round(minutes / 60);
    if (hours < 48) return hours + (I18N.lang === "id" ? " jam" : "h");
    return Math.round(hours / 24) + (I18N.lang === "id" ? " hr" : "d");
  }

  function ago(iso) { return t("ago", { d: duration(Date.now() - Date.parse(iso)) }); }

  function when(iso) {
    return new Intl.DateTimeFormat(I18N.lang === "id" ? "id-ID" : "en-GB",
      { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  }

  function slaBadge(sla) {
    if (!sla || sla.state === "none") return null;
    const left = sla.due_at ? Date.parse(sla.due_at) - Date.now() : 0;
    const text = {
      breached: t("sla_breached") + (sla.due_at ? " · " + t("overdue_by", { d: duration(left) }) : ""),
      due_soon: t("due_in", { d: duration(left) }),
      ok: t("due_in", { d: duration(left) }),
      paused: t("paused"),
      met: t("met"),
    }[sla.state] || sla.state;
    return el("span", { class: "badge sla sla-" + sla.state, title: sla.due_at ? t("due", { time: when(sla.due_at) }) : null, text: text });
  }

  function ticketRow(ticket, index) {
    const selected = index === state.selected;
    return el("li", {
      class: "ticket-row" + (selected ? " selected" : "") + (ticket.id === state.openId ? " open" : ""),
      role: "option", "aria-selected": selected ? "true" : "false",
      dataset: { id: ticket.id, index: String(index) },
      onclick: () => { state.selected = index; openTicket(ticket.id); },
    },
    el("div", { class: "row-top" },
      el("span", { class: "badge pri pri-" + ticket.priority, text: t("pri_" + ticket.priority) }),
      slaBadge(ticket.sla),
      ticket.needs_triage ? el("span", { class: "badge triage", text: t("triage") }) : null,
      el("span", { class: "spacer" }),
      el("time", { class: "muted", datetime: ticket.updated_at, title: when(ticket.updated_at), text: ago(ticket.updated_at) })),
    el("div", { class: "subject", text: ticket.subject || "—" }),
    el("div", { class: "row-bottom muted" },
      el("span", { class: "who", text: ticket.customer_name || ticket.customer }),
      el("span", { class: "tag cat-" + ticket.category, text: t("cat_" + ticket.category) }),
      el("span", { class: "tag", text: t("ch_" + ticket.channel) }),
      el("span", { class: "tag lang", text: ticket.lang.toUpperCase() }),
      ticket.assignee ? el("span", { class: "tag assignee", text: "@" + ticket.assignee }) : null,
      ticket.status !== "open" ? el("span", { class: "tag status-" + ticket.status, text: t("status_" + ticket.status) }) : null));
  }

  function renderList() {
    const list = $("#ticket-list");
    if (!state.tickets.length) {
      list.replaceChildren(el("li", { class: "empty-row", text: t("no_tickets") }));
    } else {
      list.replaceChildren(...state.tickets.map(ticketRow));
    }
    const more = $("#more");
    more.hidden = !state.cursor;
    more.textContent = state.partial ? t("search_further") : t("load_more");
    $("#list-meta").textContent = t("n_shown", { n: state.tickets.length });
    const row = list.querySelector(".ticket-row.selected");
    if (row) row.scrollIntoView({ block: "nearest" });
  }

  // -- rendering: one ticket -----------------------------------------------------------

  function optionList(values, prefix, chosen) {
    return values.map((v) => el("option", { value: v, text: t(prefix + v), selected: v === chosen }));
  }

  function change(field, value) {
    const detail = state.detail;
    if (!detail) return;
    const body = { expected_version: detail.ticket.version };
    body[field] = value;
    return api("/tickets/" + encodeURIComponent(detail.ticket.id), { method: "PATCH", body: body })
      .then(() => { toast(t("saved")); return Promise.all([loadDetail(detail.ticket.id), refresh()]); })
      .catch(onChangeError);
  }

  function onChangeError(error) {
    if (error instanceof AuthNeeded) return;
    if (error.status === 409) {
      toast(t("conflict"), "warn");
      if (state.openId) loadDetail(state.openId);
      return;
    }
    toast(t("error", { msg: error.message }), "error");
  }

  function renderHeader(ticket) {
    const sla = ticket.sla;
    return el("header", { class: "ticket-head" },
      el("div", { class: "title-line" },
        el("h2", { id: "ticket-subject", text: ticket.subject || "—" }),
        el("span", { class: "ticket-id muted", text: ticket.id })),
      el("div", { class: "meta-line" },
        el("span", { class: "badge pri pri-" + ticket.priority, text: t("pri_" + ticket.priority) }),
        slaBadge(sla),
        ticket.needs_triage ? el("span", { class: "badge triage", text: t("triage") }) : null,
        el("span", { class: "who", text: (ticket.customer_name ? ticket.customer_name + " · " : "") + ticket.customer }),
        el("span", { class: "tag", text: t("ch_" + ticket.channel) }),
        el("span", { class: "tag lang", text: t("lang_" + ticket.lang) }),
        ticket.linked_ticket ? el("span", { class: "tag", text: t("linked", { id: ticket.linked_ticket }) }) : null,
        el("span", { class: "muted", text: t("version", { n: ticket.version }) })),
      el("div", { class: "actions" },
        el("label", {}, el("span", { text: t("status") }),
          el("select", { id: "act-status", onchange: (e) => change("status", e.target.value) },
            optionList(STATUSES, "status_", ticket.status))),
        el("label", {}, el("span", { text: t("priority") }),
          el("select", { id: "act-priority", onchange: (e) => change("priority", e.target.value) },
            optionList(PRIORITIES, "pri_", ticket.priority))),
        el("label", {}, el("span", { text: t("category") }),
          el("select", { id: "act-category", onchange: (e) => change("category", e.target.value) },
            optionList(CATEGORIES, "cat_", ticket.category))),
        el("label", {}, el("span", { text: t("assignee") }),
          el("input", { id: "act-assignee", value: ticket.assignee || "", size: "16",
            placeholder: t("unassigned"),
            onchange: (e) => change("assignee", e.target.value.trim() || null) })),
        el("button", { type: "button", class: "ghost", id: "act-assign-me",
          onclick: () => change("assignee", ticket.assignee === (state.me && state.me.id) ? null : state.me && state.me.id) },
          ticket.assignee && state.me && ticket.assignee === state.me.id ? t("unassign") : t("assign_me")),
        ticket.status !== "resolved"
          ? el("button", { type: "button", class: "primary", id: "act-resolve", onclick: () => change("status", "resolved") }, t("resolve") + "  (e)")
          : null));
  }

  function messageCard(message) {
    const who = message.direction === "in" ? "customer" : message.direction === "note" ? "note" : "agent";
    const hasHtml = Boolean(message.html_safe);
    const view = state.htmlView[message.id] || (hasHtml ? "html" : "text");
    const body = el("div", { class: "body" + (view === "html" ? " html" : " text") });
    if (view === "html" && hasHtml) body.append(safeFragment(message.html_safe));
    else body.textContent = message.text;
    const status = message.delivery_status
      ? el("span", { class: "delivery delivery-" + message.delivery_status, text: t(message.delivery_status) })
      : null;
    return el("article", { class: "msg msg-" + who + (message.is_auto ? " auto" : ""), dataset: { id: message.id } },
      el("div", { class: "msg-head" },
        who === "note" ? el("span", { class: "tag note-tag", text: t("note") }) : null,
        el("strong", { text: message.author }),
        message.is_auto ? el("span", { class: "tag", text: t("auto") }) : null,
        message.repeat_count > 1 ? el("span", { class: "tag", text: t("repeated", { n: message.repeat_count }) }) : null,
        status,
        el("span", { class: "spacer" }),
        hasHtml ? el("button", {
          type: "button", class: "link",
          onclick: () => { state.htmlView[message.id] = view === "html" ? "text" : "html"; renderDetail(); },
        }, view === "html" ? t("plain") : t("formatted")) : null,
        el("time", { class: "muted", datetime: message.created_at, text: when(message.created_at) })),
      message.subject && who !== "note" ? el("div", { class: "msg-subject", text: message.subject }) : null,
      body,
      message.attachments && message.attachments.length
        ? el("ul", { class: "attachments" }, message.attachments.map((a) =>
          el("li", { text: "📎 " + a.filename + " (" + Math.ceil(a.size / 1024) + " KB)" })))
        : null,
      message.redactions && message.redactions.length
        ? el("div", { class: "muted small", text: t("redacted", { what: message.redactions.map((r) => r.kind + "×" + r.count).join(", ") }) })
        : null);
  }

  function renderSide(detail) {
    const ticket = detail.ticket;
    const entities = Object.entries(ticket.entities || {});
    return el("aside", { class: "ticket-side" },
      el("section", {},
        el("h3", { text: t("why_category") }),
        el("p", { class: "muted", text: t("cat_" + ticket.category) + " · " + t("confidence", { n: Math.round(ticket.confidence * 100) }) }),
        ticket.explanation.length
          ? el("ul", { class: "explanation" }, ticket.explanation.map((line) => el("li", { text: line })))
          : el("p", { class: "muted", text: t("none") })),
      el("section", {},
        el("h3", { text: t("entities") }),
        entities.length
          ? el("dl", { class: "entities" }, entities.flatMap(([k, v]) => [el("dt", { text: k.replace(/_/g, " ") }),
            el("dd", { text: entityText(v) })]))
          : el("p", { class: "muted", text: t("none") })),
      el("section", {},
        el("h3", { text: t("follow_ups") }),
        detail.follow_ups.length
          ? el("ul", { class: "followups" }, detail.follow_ups.map((f) => el("li", {},
            el("span", { class: "kind", text: String(f.kind || "").replace(/_/g, " ") }),
            f.due_at ? el("time", { class: "muted", datetime: f.due_at, text: " · " + when(f.due_at) }) : null)))
          : el("p", { class: "muted", text: t("none") })),
      el("section", {},
        el("h3", { text: t("timeline") }),
        el("ol", { class: "timeline" }, detail.events.slice().reverse().map((e) => el("li", {},
          el("time", { class: "muted", datetime: e.at, text: when(e.at) }),
          el("span", { class: "kind", text: e.kind.replace(/_/g, " ") }),
          e.actor && e.actor !== "system" ? el("span", { class: "muted", text: " · " + e.actor }) : null,
          eventDetail(e))))));
  }

  // Entities are plain values, lists, or small records such as {first6, last4} or {value, currency}.
  function entityText(value) {
    if (value === null || value === undefined) return "—";
    if (Array.isArray(value)) return value.map(entityText).join(", ");
    if (typeof value === "object") {
      if ("first6" in value && "last4" in value) return value.first6 + "******" + value.last4;
      if (typeof value.text === "string") return value.text;
      return Object.entries(value).map(([k, v]) => k + " " + entityText(v)).join(" · ");
    }
    return String(value);
  }

  function eventDetail(event) {
    const d = event.detail || {};
    if ("from" in d && "to" in d) return el("span", { class: "muted", text: " " + (d.from ?? "—") + " → " + (d.to ?? "—") });
    if (d.reason) return el("span", { class: "muted", text: " · " + d.reason });
    return null;
  }

  function composer() {
    // One composer per opened ticket: a refresh re-renders the thread, never what is being typed.
    const mode = state.composerMode;
    const box = el("form", { class: "composer composer-" + mode, id: "composer", onsubmit: (e) => { e.preventDefault(); submitComposer(); } },
      el("div", { class: "composer-tabs", role: "tablist" },
        el("button", { type: "button", role: "tab", id: "tab-reply", "aria-selected": mode === "reply" ? "true" : "false",
          onclick: () => setComposerMode("reply") }, t("reply") + "  (r)"),
        el("button", { type: "button", role: "tab", id: "tab-note", "aria-selected": mode === "note" ? "true" : "false",
          onclick: () => setComposerMode("note") }, t("note") + "  (n)")),
      el("textarea", { id: "composer-text", rows: "4", required: true,
        placeholder: mode === "reply" ? t("reply_placeholder") : t("note_placeholder") }),
      el("div", { class: "composer-foot" },
        mode === "reply" ? el("label", {}, el("span", { text: t("then_status") }),
          el("select", { id: "composer-status" },
            el("option", { value: "", text: t("keep_status") }),
            optionList(["waiting", "resolved"], "status_", ""))) : null,
        el("span", { class: "spacer" }),
        el("button", { type: "submit", class: "primary", id: "composer-send" },
          (mode === "reply" ? t("send_reply") : t("add_note")) + "  (Ctrl+Enter)")));
    return box;
  }

  function setComposerMode(mode) {
    const text = $("#composer-text") ? $("#composer-text").value : "";
    state.composerMode = mode;
    const fresh = composer();
    $("#composer").replaceWith(fresh);
    $("#composer-text").value = text;
    $("#composer-text").focus();
  }

  async function submitComposer() {
    const detail = state.detail;
    const area = $("#composer-text");
    const text = area.value.trim();
    if (!detail || !text || state.busy) return;
    state.busy = true;
    $("#composer-send").disabled = true;
    const id = encodeURIComponent(detail.ticket.id);
    try {
      if (state.composerMode === "note") {
        await api("/tickets/" + id + "/notes", { method: "POST", body: { text: text } });
        toast(t("note_added"));
      } else {
        const statusAfter = $("#composer-status").value || null;
        const result = await api("/tickets/" + id + "/replies", {
          method: "POST", body: { text: text, expected_version: detail.ticket.version, status_after: statusAfter },
        });
        toast(result.message.delivery_status === "failed" ? t("reply_failed") : t("reply_sent"),
          result.message.delivery_status === "failed" ? "error" : "");
      }
      area.value = "";
      await Promise.all([loadDetail(detail.ticket.id), refresh()]);
    } catch (error) {
      onChangeError(error);
    } finally {
      state.busy = false;
      const send = $("#composer-send");
      if (send) send.disabled = false;
    }
  }

  function renderDetail() {
    const section = $("#detail");
    const detail = state.detail;
    if (!detail) {
      section.replaceChildren(el("div", { class: "empty", id: "detail-empty" }, el("p", { text: t("pick_ticket") })));
      return;
    }
    // Compare as times: "…:14Z" and "…:14.5Z" do not sort as strings.
    const thread = detail.messages.concat(detail.notes)
      .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
    let keep = $("#composer");
    if (!keep || keep.dataset.ticket !== detail.ticket.id) {
      keep = composer();
      keep.dataset.ticket = detail.ticket.id;
    }
    section.replaceChildren(
      renderHeader(detail.ticket),
      el("div", { class: "ticket-body" },
        el("div", { class: "thread-col" },
          el("div", { class: "thread", id: "thread" }, thread.map(messageCard)),
          keep),
        renderSide(detail)));
  }

  // -- loading -------------------------------------------------------------------------

  async function loadDetail(id) {
    try {
      state.detail = await api("/tickets/" + encodeURIComponent(id));
      state.openId = id;
    } catch (error) {
      if (error instanceof AuthNeeded) return;
      if (error.status === 404) { state.detail = null; state.openId = null; }
      toast(t("error", { msg: error.message }), "error");
    }
    renderDetail();
    renderList();
  }

  function openTicket(id) {
    if (state.openId !== id) state.htmlView = {};
    if (location.hash !== "#/t/" + id) history.replaceState(null, "", "#/t/" + id);
    return loadDetail(id);
  }

  async function reloadList() {
    state.selected = 0;
    state.cursor = null;
    $("#list-meta").textContent = t("loading");
    try {
      const page = await api(listPath(PAGE));
      state.tickets = page.tickets;
      state.cursor = page.cursor;
      state.partial = page.partial;
    } catch (error) {
      if (!(error instanceof AuthNeeded)) toast(t("error", { msg: error.message }), "error");
      return;
    }
    renderList();
    renderCounts();
  }

  async function loadMore() {
    if (!state.cursor) return;
    const page = await api(listPath(PAGE, state.cursor));
    state.tickets = state.tickets.concat(page.tickets);
    state.cursor = page.cursor;
    state.partial = page.partial;
    renderList();
  }

  // Live refresh: the first pages again (as many rows as are shown), the counts, the open ticket.
  async function refresh() {
    const live = $("#live");
    try {
      const shown = Math.min(100, Math.max(PAGE, state.tickets.length));
      const [page, counts] = await Promise.all([api(listPath(shown)), api(countsPath())]);
      const selectedId = state.tickets[state.selected] && state.tickets[state.selected].id;
      state.tickets = page.tickets;
      if (state.tickets.length <= shown) { state.cursor = page.cursor; state.partial = page.partial; }
      const again = state.tickets.findIndex((x) => x.id === selectedId);
      state.selected = again >= 0 ? again : Math.min(state.selected, Math.max(0, state.tickets.length - 1));
      state.counts = counts;
      state.lastRefresh = new Date();
      live.dataset.state = "live";
      live.textContent = "● " + t("live") + " · " + t("updated_at", { time: state.lastRefresh.toLocaleTimeString(I18N.lang === "id" ? "id-ID" : "en-GB") });
      renderList();
      renderCounts();
    } catch (error) {
      if (error instanceof AuthNeeded) return;
      live.dataset.state = "offline";
      live.textContent = "● " + t("offline");
    }
  }

  async function refreshDetail() {
    if (!state.openId || state.busy) return;
    try {
      const fresh = await api("/tickets/" + encodeURIComponent(state.openId));
      const old = state.detail;
      const changed = !old || old.ticket.version !== fresh.ticket.version ||
        old.messages.length + old.notes.length + old.events.length !==
        fresh.messages.length + fresh.notes.length + fresh.events.length ||
        JSON.stringify(old.messages.map((m) => m.delivery_status)) !== JSON.stringify(fresh.messages.map((m) => m.delivery_status));
      state.detail = fresh;
      const editing = document.activeElement && ["SELECT", "INPUT"].includes(document.activeElement.tagName) &&
        document.activeElement.closest(".ticket-head");
      if (changed && !editing) renderDetail();
    } catch (error) {
      /* the list refresh reports connectivity */
    }
  }

  // -- keyboard ------------------------------------------------------------------------

  const SHORTCUTS = [["j / k", "k_move"], ["o / Enter", "k_open"], ["r", "k_reply"], ["n", "k_note"],
    ["e", "k_resolve"], ["/", "k_search"], ["?", "k_help"], ["Esc", "k_escape"], ["Ctrl+Enter", "k_send"]];

  function move(delta) {
    if (!state.tickets.length) return;
    state.selected = Math.max(0, Math.min(state.tickets.length - 1, state.selected + delta));
    renderList();
  }

  function onKey(event) {
    const target = event.target;
    const typing = target && (["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable);
    if (event.key === "Escape") {
      if (typing) target.blur();
      return;
    }
    if (typing) {
      if (target.id === "composer-text" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submitComposer();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || $("#login").open) return;
    const key = event.key;
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      ArrowDown: () => move(1),
      ArrowUp: () => move(-1),
      o: () => state.tickets[state.selected] && openTicket(state.tickets[state.selected].id),
      Enter: () => state.tickets[state.selected] && openTicket(state.tickets[state.selected].id),
      r: () => { if (state.detail) { if (state.composerMode !== "reply") setComposerMode("reply"); else $("#composer-text").focus(); } },
      n: () => { if (state.detail) { if (state.composerMode !== "note") setComposerMode("note"); else $("#composer-text").focus(); } },
      e: () => state.detail && state.detail.ticket.status !== "resolved" && change("status", "resolved"),
      "/": () => $("#search").focus(),
      "?": () => $("#help").showModal(),
    };
    if (actions[key]) {
      event.preventDefault();
      actions[key]();
    }
  }

  function renderHelp() {
    $("#shortcut-list").replaceChildren(...SHORTCUTS.flatMap(([keys, what]) => [
      el("dt", {}, ...keys.split(" / ").flatMap((k, i) => (i ? [" / ", el("kbd", { text: k })] : [el("kbd", { text: k })]))),
      el("dd", { text: t(what) })]));
  }

  // -- misc ----------------------------------------------------------------------------

  let toastTimer = null;
  function toast(message, kind) {
    const box = $("#toast");
    box.textContent = message;
    box.className = "toast" + (kind ? " toast-" + kind : "");
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  function readFilters() {
    const form = $("#filters");
    state.filters = {
      brand: form.brand.value,
      category: form.category.value,
      priority: form.priority.value,
      channel: form.channel.value,
      lang: form.lang.value,
      assignee: form.assignee.value,
      sla: form.sla.value,
      sort: form.sort.value === "oldest" ? "oldest" : "",
      needs_triage: form.needs_triage.checked ? "true" : "",
      include_spam: form.include_spam.checked ? "true" : "",
    };
  }

  function applyLanguage(lang) {
    I18N.setLang(lang);
    localStorage.setItem(LANG_KEY, I18N.lang);
    $("#ui-lang").value = I18N.lang;
    I18N.apply(document);
    renderFilters();
    renderHelp();
    renderCounts();
    renderList();
    if (state.detail) {
      const old = $("#composer");
      const text = old ? $("#composer-text").value : "";
      if (old) old.remove();
      renderDetail();
      $("#composer-text").value = text;
    }
  }

  let pollTimer = null;
  async function start() {
    if (!state.me) {
      try { state.me = await api("/me"); } catch (error) { return; }
    }
    $("#whoami").textContent = state.me.name;
    renderFilters();  // the brand filter lists the agent's brands
    await refresh();
    const match = /^#\/t\/(TKT-[0-9A-Z]+)$/.exec(location.hash);
    if (match) openTicket(match[1]);
    clearInterval(pollTimer);
    pollTimer = setInterval(() => {
      if (document.visibilityState !== "visible") return;
      refresh();
      refreshDetail();
    }, POLL_MS);
  }

  function init() {
    const saved = localStorage.getItem(LANG_KEY);
    const browser = (navigator.language || "en").toLowerCase().startsWith("id") ? "id" : "en";
    applyLanguage(saved || browser);

    // A token in the URL fragment (never sent to a server) signs in once, then leaves the URL.
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    if (fragment.get("token")) {
      sessionStorage.setItem(TOKEN_KEY, fragment.get("token"));
      history.replaceState(null, "", location.pathname + location.search);
    }

    $("#login-form").addEventListener("submit", onLogin);
    $("#login").addEventListener("cancel", (e) => e.preventDefault());
    $("#ui-lang").addEventListener("change", (e) => applyLanguage(e.target.value));
    $("#help-button").addEventListener("click", () => $("#help").showModal());
    $("#logout").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      state.me = null;
      clearInterval(pollTimer);
      showLogin();
    });
    $("#more").addEventListener("click", () => loadMore().catch(onChangeError));
    const filters = $("#filters");
    filters.addEventListener("change", () => { readFilters(); reloadList(); });
    filters.addEventListener("reset", () => setTimeout(() => { readFilters(); reloadList(); }, 0));
    let searchTimer = null;
    $("#search").addEventListener("input", (e) => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => { state.q = e.target.value.trim(); reloadList(); }, 250);
    });
    $("#search").addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); clearTimeout(searchTimer); state.q = e.target.value.trim(); reloadList(); }
    });
    document.addEventListener("keydown", onKey);
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible" && state.me) refresh(); });
    readFilters();
    if (!sessionStorage.getItem(TOKEN_KEY)) showLogin();
    else start();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
