// hikyaku console: the single page behind the hash routes #/inbox, #/message/ID, #/queue, #/log
// and #/health. Plain JavaScript, built into the program, nothing fetched from the network.
//
// SECURITY: every value that comes from a message or from the server is put into the page as
// text (textContent, DOM properties), never as markup; captured HTML is shown only by the
// server's /view/ID.html inside an <iframe sandbox=""> (no scripts, no same origin). Every state
// change (POST, PUT, DELETE) carries the X-CSRF-Token that the page's <meta> tag holds.
"use strict";

(() => {
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const view = document.getElementById("view");
  const PAGE_SIZE = 50;

  // ---- DOM helpers -------------------------------------------------------------------------

  // el("td", {class: "x", title: "..."}, "text", childNode, ...): strings become text nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "hidden" || key === "disabled" || key === "checked") node[key] = true;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    append(node, ...children);
    return node;
  }
  // Appends nodes and text (arrays of them too, at any depth); null/undefined/false are skipped.
  function append(node, ...children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function clear(node) {
    node.replaceChildren();
    return node;
  }
  // A paperclip (the attachment mark), drawn as SVG so that it needs no emoji font.
  function clipIcon(label) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("class", "icon");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    const title = document.createElementNS(ns, "title");
    title.textContent = label;
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M10.5 4.5v6a2.5 2.5 0 0 1-5 0V3.8a1.6 1.6 0 0 1 3.2 0v6.4a.7.7 0 0 1-1.4 0V5");
    svg.append(title, path);
    return svg;
  }
  function labelled(text, input) {
    return el("label", { class: "inline" }, el("span", { class: "visually-hidden" }, text), input);
  }

  // ---- errors and notices ------------------------------------------------------------------

  const errorBox = document.getElementById("error");
  const errorText = document.getElementById("error-text");
  document.getElementById("error-close").addEventListener("click", hideError);
  function showError(err) {
    errorText.textContent = err instanceof Error ? err.message : String(err);
    errorBox.hidden = false;
  }
  function hideError() {
    errorBox.hidden = true;
    errorText.textContent = "";
  }
  // Runs an async action, showing its failure in the page instead of losing it.
  async function guarded(action) {
    try {
      return await action();
    } catch (err) {
      showError(err);
      return undefined;
    }
  }

  // ---- the server's JSON -------------------------------------------------------------------

  class ApiError extends Error {}

  async function api(method, url, body, { text = false } = {}) {
    const headers = { Accept: text ? "text/plain" : "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      throw new ApiError(`${method} ${url}: the console is not reachable (${err.message})`);
    }
    const raw = await res.text();
    if (!res.ok) {
      let reason = raw.trim();
      try {
        const parsed = JSON.parse(raw);
        if (parsed && typeof parsed.Error === "string") reason = parsed.Error;
      } catch (_) {
        /* not JSON: the text as it came */
      }
      throw new ApiError(`${method} ${url} failed: ${res.status} ${res.statusText}` +
        (reason ? ` — ${reason.slice(0, 500)}` : ""));
    }
    if (text) return raw;
    if (raw === "") return null;
    try {
      return JSON.parse(raw);
    } catch (_) {
      // Mailpit answers some state changes with a plain "ok".
      return raw;
    }
  }
  const enc = encodeURIComponent;

  // ---- formatting --------------------------------------------------------------------------

  function formatSize(bytes) {
    const n = Number(bytes) || 0;
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} kB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }
  function parseTime(value) {
    if (value === undefined || value === null || value === "") return null;
    const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return Number.isNaN(d.getTime()) || d.getTime() <= 0 ? null : d;
  }
  function formatTime(value, { seconds = false } = {}) {
    const d = parseTime(value);
    if (!d) return "";
    const now = new Date();
    const time = d.toLocaleTimeString([], seconds
      ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
      : { hour: "2-digit", minute: "2-digit" });
    if (d.toDateString() === now.toDateString()) return time;
    const date = d.toLocaleDateString([], d.getFullYear() === now.getFullYear()
      ? { month: "short", day: "numeric" }
      : { year: "numeric", month: "short", day: "numeric" });
    return `${date} ${time}`;
  }
  function timeCell(value, opts) {
    const d = parseTime(value);
    return el("time", { datetime: d ? d.toISOString() : undefined, title: d ? d.toString() : undefined },
      formatTime(value, opts));
  }
  function relative(value) {
    const d = parseTime(value);
    if (!d) return "";
    const s = Math.round((d.getTime() - Date.now()) / 1000);
    const abs = Math.abs(s);
    const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min`
      : abs < 86400 ? `${(abs / 3600).toFixed(1)} h` : `${(abs / 86400).toFixed(1)} d`;
    return s >= 0 ? `in ${text}` : `${text} ago`;
  }
  function address(a) {
    if (!a) return "";
    if (typeof a === "string") return a;
    return a.Name ? `${a.Name} <${a.Address}>` : a.Address || "";
  }
  function addressShort(a) {
    if (!a) return "";
    if (typeof a === "string") return a;
    return a.Name || a.Address || "";
  }
  function addresses(list) {
    return (list || []).map(address).join(", ");
  }
  function splitAddresses(text) {
    return text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
  }

  // ---- navigation --------------------------------------------------------------------------

  // The page being shown: its teardown runs when another is shown; events reach it through
  // onEvent.
  let current = { name: "", teardown() {}, onEvent() {} };
  // Where "‹ Inbox" on a message goes back to: the inbox as last shown, search included.
  let inboxHash = "#/inbox";

  function route() {
    // "#/page/arg?query": the query (the inbox's search) stays encoded until URLSearchParams.
    const hash = location.hash.replace(/^#\/?/, "");
    const q = hash.indexOf("?");
    const [page, ...rest] = (q < 0 ? hash : hash.slice(0, q)).split("/").map((part) => {
      try {
        return decodeURIComponent(part);
      } catch (_) {
        return part;
      }
    });
    const arg = rest.join("/");
    const query = new URLSearchParams(q < 0 ? "" : hash.slice(q + 1));
    current.teardown();
    current = { name: page, teardown() {}, onEvent() {} };
    hideError();
    for (const a of document.querySelectorAll("nav a[data-page]")) {
      const active = a.dataset.page === page || (page === "message" && a.dataset.page === "inbox");
      if (active) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    clear(view);
    switch (page) {
      case "message": return showMessage(arg);
      case "queue": return showQueue();
      case "log": return showLog(arg);
      case "health": return showHealth();
      case "inbox": return showInbox(query);
      default:
        location.replace("#/inbox");
        return undefined;
    }
  }
  function setTitle(text) {
    document.title = `${text} — hikyaku`;
  }

  // ---- live updates (server-sent events) ---------------------------------------------------

  const live = document.getElementById("live");
  const unreadBadge = document.getElementById("unread");
  function setUnread(n) {
    unreadBadge.textContent = n > 0 ? String(n) : "";
  }
  function connectEvents() {
    if (!window.EventSource) return;
    const source = new EventSource("/api/hikyaku/events");
    source.addEventListener("open", () => {
      live.textContent = "live";
      live.classList.add("on");
    });
    source.addEventListener("error", () => {
      // EventSource reconnects by itself; say so meanwhile.
      live.textContent = "reconnecting";
      live.classList.remove("on");
    });
    for (const type of ["new", "delete", "read"]) {
      source.addEventListener(type, (ev) => {
        let data = null;
        try {
          data = ev.data ? JSON.parse(ev.data) : null;
        } catch (_) {
          data = null;
        }
        current.onEvent(type, data);
        if (current.name !== "inbox") refreshUnread();
      });
    }
  }
  async function refreshUnread() {
    try {
      const list = await api("GET", "/api/v1/messages?start=0&limit=1");
      setUnread(list && list.unread);
    } catch (_) {
      /* the badge is a nicety; a page shows its own errors */
    }
  }

  // ---- inbox -------------------------------------------------------------------------------

  function showInbox(params) {
    setTitle("Inbox");
    inboxHash = location.hash || "#/inbox";
    const state = { query: params.get("q") || "", start: 0, messages: [], total: 0, selected: new Set() };

    const search = el("input", {
      type: "search", id: "search", class: "grow", placeholder: "Search: from:alice@example.com subject:\"reset\" is:unread has:attachment …",
      "aria-label": "Search messages (Mailpit query syntax)", value: state.query, autocomplete: "off",
    });
    const form = el("form", { role: "search", class: "grow", onsubmit: (e) => {
      e.preventDefault();
      state.query = search.value.trim();
      state.start = 0;
      // Kept in the address (without a new route), so that Back from a message returns to it.
      inboxHash = state.query ? `#/inbox?q=${enc(state.query)}` : "#/inbox";
      history.replaceState(null, "", inboxHash);
      load();
    } },
      el("label", { for: "search", class: "visually-hidden" }, "Search messages"), search);
    search.classList.add("grow");
    const releaseTo = el("input", { type: "text", id: "release-to", placeholder: "original recipients", size: 22 });
    const btnRelease = el("button", { type: "button", id: "release-selected", disabled: true, onclick: releaseSelected }, "Release");
    const btnRead = el("button", { type: "button", id: "read-selected", disabled: true, onclick: () => markRead(true) }, "Mark read");
    const btnDelete = el("button", { type: "button", id: "delete-selected", class: "danger", disabled: true, onclick: deleteSelected }, "Delete");
    const btnDeleteAll = el("button", { type: "button", id: "delete-all", class: "danger", onclick: deleteAll }, "Delete all");
    const status = el("span", { class: "status", id: "inbox-status", role: "status" });
    // What an action did ("2 released …"); the status line above is the list's own.
    const notice = el("div", { class: "notice", id: "inbox-notice", role: "status", hidden: true });
    function tell(text) {
      notice.textContent = text;
      notice.hidden = false;
    }
    const toolbar = el("div", { class: "toolbar" }, form,
      el("label", { class: "inline", for: "release-to" }, "Release to"), releaseTo,
      btnRelease, btnRead, btnDelete, btnDeleteAll);

    const checkAll = el("input", { type: "checkbox", id: "check-all", "aria-label": "Select every message on this page" });
    checkAll.addEventListener("change", () => {
      for (const m of state.messages) {
        if (checkAll.checked) state.selected.add(m.ID);
        else state.selected.delete(m.ID);
      }
      renderRows();
    });
    const tbody = el("tbody");
    const table = el("table", { class: "messages", id: "messages" },
      el("colgroup", {}, el("col", { class: "check" }), el("col", { class: "from" }), el("col", { class: "to" }),
        el("col", { class: "subject" }), el("col", { class: "time" }), el("col", { class: "size" })),
      el("thead", {}, el("tr", {}, el("th", {}, checkAll), el("th", { scope: "col" }, "From"),
        el("th", { scope: "col" }, "To"), el("th", { scope: "col" }, "Subject"),
        el("th", { scope: "col" }, "Received"), el("th", { scope: "col", class: "num" }, "Size"))),
      tbody);
    const older = el("button", { type: "button", id: "older", onclick: () => { state.start += PAGE_SIZE; load(); } }, "Older ›");
    const newer = el("button", { type: "button", id: "newer", onclick: () => { state.start = Math.max(0, state.start - PAGE_SIZE); load(); } }, "‹ Newer");
    const pageInfo = el("span");
    append(view, el("h1", {}, "Inbox"), toolbar, status, notice, el("div", { class: "panel" }, table),
      el("div", { class: "pager" }, pageInfo, newer, older));

    function updateButtons() {
      const n = state.selected.size;
      btnRelease.disabled = btnDelete.disabled = btnRead.disabled = n === 0;
      btnDeleteAll.textContent = state.query ? "Delete all found" : "Delete all";
      checkAll.checked = state.messages.length > 0 && state.messages.every((m) => state.selected.has(m.ID));
    }

    function row(m, fresh) {
      const check = el("input", { type: "checkbox", "aria-label": `Select: ${m.Subject || "(no subject)"}`, checked: state.selected.has(m.ID) });
      check.addEventListener("click", (e) => e.stopPropagation());
      check.addEventListener("change", () => {
        if (check.checked) state.selected.add(m.ID);
        else state.selected.delete(m.ID);
        tr.classList.toggle("selected", check.checked);
        updateButtons();
      });
      const to = (m.To || []).concat(m.Cc || []);
      const subject = el("td", { class: "subject" },
        el("a", { href: `#/message/${enc(m.ID)}` }, m.Subject || "(no subject)"),
        m.Attachments > 0 ? el("span", { class: "clip" }, clipIcon(`${m.Attachments} attachment(s)`)) : null,
        m.Snippet ? el("span", { class: "snippet" }, m.Snippet) : null);
      const tr = el("tr", { "data-id": m.ID, class: [m.Read ? "" : "unread", state.selected.has(m.ID) ? "selected" : "", fresh ? "fresh" : ""].join(" ").trim() },
        el("td", {}, check),
        el("td", { class: "from", title: address(m.From) }, addressShort(m.From)),
        el("td", { class: "to", title: addresses(to) }, to.map(addressShort).join(", ")),
        subject,
        el("td", { class: "nowrap" }, timeCell(m.Created)),
        el("td", { class: "num" }, formatSize(m.Size)));
      tr.addEventListener("click", () => { location.hash = `#/message/${enc(m.ID)}`; });
      return tr;
    }

    function renderRows(freshId) {
      clear(tbody);
      if (state.messages.length === 0) {
        tbody.append(el("tr", {}, el("td", { colspan: 6, class: "empty" },
          state.query ? "No message matches the search." : "No captured mail yet. Send some to the SMTP port; it shows up here at once.")));
      }
      for (const m of state.messages) tbody.append(row(m, m.ID === freshId));
      const first = state.messages.length ? state.start + 1 : 0;
      pageInfo.textContent = `${first}–${state.start + state.messages.length} of ${state.total}`;
      newer.disabled = state.start === 0;
      older.disabled = state.start + state.messages.length >= state.total;
      updateButtons();
    }

    let loading = 0;
    async function load() {
      const ticket = ++loading;
      const url = state.query
        ? `/api/v1/search?query=${enc(state.query)}&start=${state.start}&limit=${PAGE_SIZE}`
        : `/api/v1/messages?start=${state.start}&limit=${PAGE_SIZE}`;
      const data = await guarded(() => api("GET", url));
      if (ticket !== loading || current.name !== "inbox" || !data) return;
      hideError();
      state.messages = data.messages || [];
      state.total = data.messages_count !== undefined && state.query ? data.messages_count : data.total || 0;
      const known = new Set(state.messages.map((m) => m.ID));
      for (const id of [...state.selected]) if (!known.has(id)) state.selected.delete(id);
      if (!state.query) setUnread(data.unread);
      status.textContent = state.query
        ? `${state.total} found`
        : `${data.total || 0} messages, ${data.unread || 0} unread`;
      renderRows();
    }

    async function forEachSelected(what, fn) {
      const ids = [...state.selected];
      let done = 0;
      for (const id of ids) {
        try {
          await fn(id);
          done++;
        } catch (err) {
          showError(`${what}: ${done} of ${ids.length} done. ${err.message}`);
          break;
        }
      }
      return done;
    }
    async function releaseSelected() {
      const to = splitAddresses(releaseTo.value);
      const body = to.length ? { To: to } : {};
      const done = await forEachSelected("Release", (id) => api("POST", `/api/v1/message/${enc(id)}/release`, body));
      if (done) tell(`${done} message(s) released into the queue${to.length ? ` to ${to.join(", ")}` : " to the original recipients"}: see the Queue and Log pages.`);
      load();
    }
    async function markRead(read) {
      await guarded(() => api("PUT", "/api/v1/messages", { IDs: [...state.selected], Read: read }));
      load();
    }
    async function deleteSelected() {
      const ids = [...state.selected];
      if (!confirm(`Delete ${ids.length} message(s)?`)) return;
      await guarded(() => api("DELETE", "/api/v1/messages", { IDs: ids }));
      state.selected.clear();
      load();
    }
    async function deleteAll() {
      if (state.query) {
        if (!confirm(`Delete every message matching “${state.query}”?`)) return;
        await guarded(() => api("DELETE", `/api/v1/search?query=${enc(state.query)}`));
      } else {
        if (!confirm("Delete every captured message?")) return;
        await guarded(() => api("DELETE", "/api/v1/messages"));
      }
      state.selected.clear();
      state.start = 0;
      load();
    }

    // Live updates: a new message goes on top of the first page of the plain list at once; a
    // search is asked again (the server knows what matches).
    let reload = 0;
    function reloadSoon() {
      clearTimeout(reload);
      reload = setTimeout(load, 250);
    }
    current.onEvent = (type, data) => {
      if (type === "new" && data && data.ID && !state.query && state.start === 0) {
        if (state.messages.some((m) => m.ID === data.ID)) return;
        state.messages.unshift(data);
        if (state.messages.length > PAGE_SIZE) state.messages.pop();
        state.total++;
        status.textContent = `${state.total} messages`;
        renderRows(data.ID);
        refreshUnread();
        return;
      }
      if (type === "read" && data && data.ID) {
        const m = state.messages.find((x) => x.ID === data.ID);
        if (m) {
          m.Read = data.Read !== undefined ? data.Read : true;
          renderRows();
        }
        refreshUnread();
        return;
      }
      reloadSoon();
    };
    current.teardown = () => clearTimeout(reload);
    load();
  }

  // ---- one message -------------------------------------------------------------------------

  // DKIM, SPF and DMARC results. The server's message JSON gives them as Authentication[]
  // (Method, Result, Detail), taken only from the Authentication-Results field hikyaku itself
  // added (RFC 8601 §5: a field the sender wrote proves nothing). Only when the JSON has no such
  // member are the fields read here (RFC 8601 §2.2: "method=result"); plus one badge per
  // DKIM-Signature the message carries.
  function authBadges(message, headers) {
    const results = [];
    if (Array.isArray(message.Authentication)) {
      for (const r of message.Authentication) {
        if (r && r.Method) results.push({ method: String(r.Method).toLowerCase(), result: String(r.Result || "").toLowerCase(), detail: r.Detail || "" });
      }
    } else {
      for (const field of headerValues(headers, "Authentication-Results")) {
        const unfolded = field.replace(/\s+/g, " ");
        for (const m of unfolded.matchAll(/\b(dkim|spf|dmarc|arc)\s*=\s*([a-z]+)([^;]*)/gi)) {
          results.push({ method: m[1].toLowerCase(), result: m[2].toLowerCase(), detail: `${m[1]}=${m[2]}${m[3]}`.trim() });
        }
      }
    }
    const badges = results.map((r) => el("span", { class: `badge ${r.result}`, title: r.detail || `${r.method}=${r.result}` },
      `${r.method.toUpperCase()} ${r.result}`));
    for (const sig of headerValues(headers, "DKIM-Signature")) {
      const d = /\bd=([^;\s]+)/.exec(sig);
      const s = /\bs=([^;\s]+)/.exec(sig);
      // Present, not verified here: hence neutral, not green.
      badges.push(el("span", { class: "badge", title: sig.replace(/\s+/g, " ") },
        `DKIM-Signature${d ? ` d=${d[1]}` : ""}${s ? ` s=${s[1]}` : ""}`));
    }
    if (badges.length === 0) badges.push(el("span", { class: "badge" }, "no DKIM signature or authentication results"));
    return badges;
  }
  function headerValues(headers, name) {
    if (!headers) return [];
    const want = name.toLowerCase();
    for (const [key, values] of Object.entries(headers)) {
      if (key.toLowerCase() === want) return Array.isArray(values) ? values : [String(values)];
    }
    return [];
  }

  async function showMessage(id) {
    setTitle("Message");
    const back = el("a", { href: inboxHash, class: "button" }, "‹ Inbox");
    append(view, el("div", { class: "actions" }, back));
    const [message, headers] = await Promise.all([
      guarded(() => api("GET", `/api/v1/message/${enc(id)}`)),
      api("GET", `/api/v1/message/${enc(id)}/headers`).catch(() => null),
    ]);
    if (!message || current.name !== "message") return;
    setTitle(message.Subject || "(no subject)");

    const fields = el("dl", { class: "fields" });
    const field = (name, value) => {
      if (value) append(fields, [el("dt", {}, name), el("dd", {}, value)]);
    };
    field("From", address(message.From));
    field("To", addresses(message.To));
    field("Cc", addresses(message.Cc));
    field("Bcc", addresses(message.Bcc));
    field("Reply-To", addresses(message.ReplyTo));
    field("Date", message.Date ? timeCell(message.Date, { seconds: true }) : "");
    field("Message-ID", message.MessageID);
    field("Size", formatSize(message.Size));

    const attachments = (message.Attachments || []).concat((message.Inline || []).filter((p) => p.FileName));
    const attachmentList = attachments.length
      ? el("ul", { class: "attachments", "aria-label": "Attachments" }, attachments.map((p) =>
        el("li", {}, el("a", { href: `/api/v1/message/${enc(id)}/part/${enc(p.PartID)}`, download: p.FileName || `part-${p.PartID}` },
          clipIcon("attachment"), ` ${p.FileName || p.PartID}`, el("span", { class: "size" }, `${p.ContentType || ""} ${formatSize(p.Size)}`)))))
      : null;

    const releaseTo = el("input", { type: "text", id: "message-release-to", placeholder: "original recipients", size: 30 });
    const btnRelease = el("button", { type: "button", class: "primary", id: "release", onclick: release }, "Release");
    const btnDelete = el("button", { type: "button", class: "danger", id: "delete", onclick: remove }, "Delete");
    const notice = el("div", { class: "notice", id: "message-notice", role: "status", hidden: true });
    const actions = view.querySelector(".actions");
    append(actions, el("label", { class: "inline", for: "message-release-to" }, "Release to"), releaseTo, btnRelease, btnDelete);

    append(view,
      el("section", { class: "panel message-head", "aria-label": "Message" },
        el("h1", { id: "message-subject" }, message.Subject || "(no subject)"),
        fields,
        el("div", { class: "badges", id: "auth-badges", "aria-label": "Authentication" }, authBadges(message, headers)),
        attachmentList),
      notice);

    // Tabs (WAI-ARIA tabs pattern: arrow keys move between them).
    const tabs = [];
    if (message.HTML) tabs.push(["html", "HTML", () => htmlPanel(id)]);
    tabs.push(["text", "Text", () => el("pre", { class: "source", id: "message-text" }, message.Text || "(this message has no text part)")]);
    const links = messageLinks(message);
    if (links.length) tabs.push(["links", `Links (${links.length})`, () => linksPanel(links)]);
    tabs.push(["headers", "Headers", () => headersPanel(headers)]);
    tabs.push(["raw", "Raw", () => rawPanel(id)]);
    const tablist = el("div", { role: "tablist", "aria-label": "Message views" });
    const panels = [];
    tabs.forEach(([key, label, render], i) => {
      const tab = el("button", { type: "button", role: "tab", id: `tab-${key}`, "aria-controls": `panel-${key}`, "aria-selected": "false", tabindex: "-1" }, label);
      const panel = el("div", { role: "tabpanel", id: `panel-${key}`, "aria-labelledby": `tab-${key}`, hidden: true });
      let rendered = false;
      tab.addEventListener("click", () => select(i));
      tab.addEventListener("keydown", (e) => {
        const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (step) {
          e.preventDefault();
          select((i + step + tabs.length) % tabs.length, true);
        }
      });
      tab.renderOnce = () => {
        if (!rendered) {
          rendered = true;
          panel.append(render());
        }
      };
      tablist.append(tab);
      panels.push([tab, panel]);
    });
    function select(index, focus) {
      panels.forEach(([tab, panel], i) => {
        const on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panel.hidden = !on;
        if (on) {
          tab.renderOnce();
          if (focus) tab.focus();
        }
      });
    }
    append(view, tablist, panels.map(([, panel]) => panel));
    select(0);

    async function release() {
      const to = splitAddresses(releaseTo.value);
      const ok = await guarded(() => api("POST", `/api/v1/message/${enc(id)}/release`, to.length ? { To: to } : {}));
      if (ok !== undefined) {
        notice.textContent = `Released into the queue${to.length ? ` to ${to.join(", ")}` : " to the original recipients"}. See the Queue and Log pages for its delivery.`;
        notice.hidden = false;
        btnRelease.disabled = true;
      }
    }
    async function remove() {
      if (!confirm("Delete this message?")) return;
      const ok = await guarded(() => api("DELETE", "/api/v1/messages", { IDs: [id] }));
      if (ok !== undefined) location.hash = inboxHash;
    }
    current.onEvent = (type, data) => {
      if (type === "delete" && data && (data.ID === id || (data.IDs || []).includes(id))) {
        notice.textContent = "This message was deleted.";
        notice.hidden = false;
      }
    };
  }

  function htmlPanel(id) {
    // sandbox="" with no allow-* token: no scripts, no forms, no plugins, no popups, and a unique
    // origin, so nothing in the message can reach this page or its token.
    const frame = el("iframe", { class: "body", id: "message-frame", sandbox: "", referrerpolicy: "no-referrer",
      title: "The message's HTML (sandboxed: no scripts, remote images blocked)", src: `/view/${enc(id)}.html` });
    const info = el("span", { id: "images-info" }, "Remote images are blocked.");
    const button = el("button", { type: "button", id: "show-images" }, "Show remote images");
    button.addEventListener("click", () => {
      frame.src = `/view/${enc(id)}.html?images=1`;
      info.textContent = "Remote images are shown (the senders can see that the message was opened).";
      button.disabled = true;
    });
    return el("div", {}, el("div", { class: "frame-bar" }, info, button), frame);
  }
  // The links of a message (a password-reset mail is read for its link), which the sandboxed
  // frame will not open: from the HTML part's <a href> (parsed by DOMParser into an inert
  // document — no scripts run, nothing is loaded) and the text part's URLs. Only http, https and
  // mailto; never javascript: or data:.
  function messageLinks(message) {
    const seen = new Map();
    const add = (href, text) => {
      let url;
      try {
        url = new URL(href);
      } catch (_) {
        return;
      }
      if (!["http:", "https:", "mailto:"].includes(url.protocol) || seen.has(url.href)) return;
      seen.set(url.href, (text || "").replace(/\s+/g, " ").trim().slice(0, 200));
    };
    if (message.HTML) {
      const doc = new DOMParser().parseFromString(message.HTML, "text/html");
      for (const a of doc.querySelectorAll("a[href]")) add(a.getAttribute("href").trim(), a.textContent);
    }
    for (const m of (message.Text || "").matchAll(/\bhttps?:\/\/[^\s<>"')\]]+/g)) add(m[0], "");
    return [...seen].slice(0, 500).map(([href, text]) => ({ href, text }));
  }
  function linksPanel(links) {
    return el("ul", { class: "links", id: "message-links" }, links.map((l) => el("li", {},
      el("a", { href: l.href, target: "_blank", rel: "noopener noreferrer" }, l.href),
      l.text && l.text !== l.href ? el("span", { class: "reply" }, ` — ${l.text}`) : null)));
  }
  function headersPanel(headers) {
    if (!headers) return el("p", { class: "empty" }, "The headers could not be read.");
    const rows = [];
    for (const [name, values] of Object.entries(headers)) {
      for (const value of Array.isArray(values) ? values : [values]) {
        rows.push(el("tr", {}, el("td", {}, name), el("td", { class: "mono" }, String(value))));
      }
    }
    return el("table", { class: "headers panel", id: "message-headers" }, el("tbody", {}, rows));
  }
  function rawPanel(id) {
    const pre = el("pre", { class: "source", id: "message-raw" }, "Loading…");
    const download = el("a", { href: `/api/v1/message/${enc(id)}/raw`, download: `${id}.eml` }, "Download .eml");
    guarded(async () => {
      pre.textContent = await api("GET", `/api/v1/message/${enc(id)}/raw`, undefined, { text: true });
    });
    return el("div", {}, el("p", {}, download), pre);
  }

  // ---- queue -------------------------------------------------------------------------------

  function showQueue() {
    setTitle("Queue");
    const status = el("span", { class: "status", role: "status", id: "queue-status" });
    const notice = el("div", { class: "notice", id: "queue-notice", role: "status", hidden: true });
    function tell(text) {
      notice.textContent = text;
      notice.hidden = false;
    }
    const refresh = el("button", { type: "button", id: "queue-refresh", onclick: () => load() }, "Refresh");
    const retryAll = el("button", { type: "button", id: "retry-all", onclick: () => retry("all") }, "Retry all now");
    const tbody = el("tbody");
    append(view, el("h1", {}, "Queue"),
      el("div", { class: "toolbar" }, refresh, retryAll, status), notice,
      el("div", { class: "panel" }, el("table", { id: "queue" },
        el("thead", {}, el("tr", {}, ["Queue ID", "Created", "From", "Recipients", "Size", ""].map((h) =>
          el("th", { scope: "col", class: h === "Size" ? "num" : undefined }, h)))),
        tbody)));

    async function retry(qid) {
      const ok = await guarded(() => api("POST", `/api/hikyaku/queue/${enc(qid)}/retry`));
      if (ok !== undefined) tell(qid === "all" ? "Every message will be tried now." : `${qid} will be tried now.`);
      setTimeout(load, 500);
    }
    async function remove(qid) {
      if (!confirm(`Delete ${qid} from the queue? No bounce is sent.`)) return;
      const ok = await guarded(() => api("DELETE", `/api/hikyaku/queue/${enc(qid)}`));
      if (ok !== undefined) tell(`${qid} deleted.`);
      load();
    }
    async function load() {
      const data = await guarded(() => api("GET", `/api/hikyaku/queue?start=0&limit=200`));
      if (!data || current.name !== "queue") return;
      const messages = data.messages || [];
      clear(tbody);
      if (messages.length === 0) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "The queue is empty.")));
      for (const m of messages) {
        const rcpts = el("ul", { class: "recipients" }, (m.Recipients || []).map((r) => el("li", {},
          el("span", { class: `badge ${String(r.State || "").toLowerCase()}` }, r.State || "?"), " ",
          r.Address, r.Attempts ? el("span", { class: "reply" }, ` · ${r.Attempts} attempt(s)`) : null,
          r.NextAttempt && r.State === "pending" ? el("span", { class: "reply", title: String(r.NextAttempt) }, ` · next try ${relative(r.NextAttempt) || r.NextAttempt}`) : null,
          r.LastReply ? el("div", { class: "reply mono" }, r.LastReply) : null)));
        tbody.append(el("tr", { "data-id": m.ID },
          el("td", { class: "mono nowrap" }, el("a", { href: `#/log/${enc(m.ID)}`, title: "Delivery log of this message" }, m.ID)),
          el("td", { class: "nowrap" }, timeCell(m.Created)),
          el("td", {}, m.From === "" ? "<> (bounce)" : m.From),
          el("td", {}, rcpts),
          el("td", { class: "num" }, formatSize(m.Size)),
          el("td", { class: "nowrap" },
            el("button", { type: "button", onclick: () => retry(m.ID), "aria-label": `Retry ${m.ID} now` }, "Retry now"), " ",
            el("button", { type: "button", class: "danger", onclick: () => remove(m.ID), "aria-label": `Delete ${m.ID}` }, "Delete"))));
      }
      status.textContent = `${data.total !== undefined ? data.total : messages.length} queued · refreshed ${formatTime(new Date().toISOString(), { seconds: true })}`;
    }
    const timer = setInterval(load, 5000);
    current.teardown = () => clearInterval(timer);
    load();
  }

  // ---- delivery log ------------------------------------------------------------------------

  function showLog(arg) {
    setTitle("Delivery log");
    const filter = el("input", { type: "search", id: "log-filter", placeholder: "queue ID", value: arg || "", autocomplete: "off" });
    const form = el("form", { onsubmit: (e) => { e.preventDefault(); location.hash = filter.value.trim() ? `#/log/${enc(filter.value.trim())}` : "#/log"; } },
      el("label", { class: "inline", for: "log-filter" }, "Filter by queue ID"), " ", filter, " ",
      el("button", { type: "submit" }, "Filter"));
    const status = el("span", { class: "status", role: "status", id: "log-status" });
    const tbody = el("tbody");
    append(view, el("h1", {}, "Delivery log"),
      el("div", { class: "toolbar" }, form, arg ? el("a", { href: "#/log", class: "button" }, "Show all") : null,
        el("button", { type: "button", id: "log-refresh", onclick: () => load() }, "Refresh"), status),
      el("div", { class: "panel" }, el("table", { id: "log" },
        el("thead", {}, el("tr", {}, ["Time", "Queue ID", "Recipient", "Via", "Result", "Reply"].map((h) => el("th", { scope: "col" }, h)))),
        tbody)));
    async function load() {
      const data = await guarded(() => api("GET", `/api/hikyaku/log?id=${enc(arg || "")}&limit=500`));
      if (!data || current.name !== "log") return;
      const events = data.events || [];
      clear(tbody);
      if (events.length === 0) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, arg ? `No delivery event for ${arg}.` : "No delivery event yet.")));
      for (const e of events) {
        tbody.append(el("tr", {},
          el("td", { class: "nowrap" }, timeCell(e.Time, { seconds: true })),
          el("td", { class: "mono nowrap" }, el("a", { href: `#/log/${enc(e.ID)}` }, e.ID)),
          el("td", {}, e.Recipient),
          el("td", {}, e.Via),
          el("td", {}, el("span", { class: `badge ${String(e.Result || "").toLowerCase()}` }, e.Result)),
          el("td", { class: "reply mono" }, e.Reply)));
      }
      status.textContent = `${events.length} event(s)`;
    }
    const timer = setInterval(load, 5000);
    current.teardown = () => clearInterval(timer);
    load();
  }

  // ---- health ------------------------------------------------------------------------------

  // A table of an array of objects whose shape this page does not know in detail: one column per
  // key, values as text.
  function genericTable(items, id) {
    const keys = [];
    for (const item of items) for (const k of Object.keys(item && typeof item === "object" ? item : { value: item })) if (!keys.includes(k)) keys.push(k);
    const cell = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
    return el("table", { id }, el("thead", {}, el("tr", {}, keys.map((k) => el("th", { scope: "col" }, k)))),
      el("tbody", {}, items.map((item) => el("tr", {}, keys.map((k) => el("td", {}, cell(item && typeof item === "object" ? item[k] : item)))))));
  }
  function panel(title, ...content) {
    return el("section", { class: "panel", "aria-label": title }, el("h2", {}, title), content);
  }
  function first(obj, ...names) {
    for (const n of names) if (obj && obj[n] !== undefined) return obj[n];
    return undefined;
  }

  function showHealth() {
    setTitle("Health");
    const status = el("span", { class: "status", role: "status", id: "health-status" });
    const grid = el("div", { class: "grid", id: "health" });
    append(view, el("h1", {}, "Health"),
      el("div", { class: "toolbar" }, el("button", { type: "button", id: "health-refresh", onclick: () => load() }, "Refresh"), status), grid);

    // {"Status": <hikyaku-util status's reply>, "Console": [...], "DkimKeys": [...],
    //  "Relays": [...]} (docs/api.md, "Health").
    async function load() {
      const h = await guarded(() => api("GET", "/api/hikyaku/health"));
      if (!h || current.name !== "health") return;
      const st = h.Status || {};
      clear(grid);
      const overview = el("dl", { class: "fields", id: "health-overview" });
      const add = (k, v) => { if (v !== undefined && v !== "") append(overview, [el("dt", {}, k), el("dd", {}, String(v))]); };
      add("Host name", st.hostname);
      add("Version", st.version);
      if (st.uptime_seconds !== undefined) add("Up for", relative(new Date(Date.now() - st.uptime_seconds * 1000).toISOString()).replace(" ago", ""));
      if (st.queue) add("Queue", `${st.queue.messages} message(s), ${st.queue.in_flight} in delivery`);
      if (st.last_hour) add("Last hour", `${st.last_hour.delivered} delivered, ${st.last_hour.deferred} deferred, ${st.last_hour.bounced} bounced, ${st.last_hour.expired} expired`);
      grid.append(panel("Overview", overview));

      const listeners = (st.listeners || []).map((l) => [l.kind, l.address]);
      for (const c of h.Console || []) {
        const address = typeof c === "string" ? c : c.Address || c.address || "";
        if (!listeners.some(([kind, a]) => kind === "console" && a === address)) listeners.push(["console", address]);
      }
      grid.append(panel("Listeners", el("table", { id: "health-listeners" },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Kind"), el("th", { scope: "col" }, "Address"))),
        el("tbody", {}, listeners.map(([kind, address]) => el("tr", {}, el("td", {}, kind), el("td", { class: "mono" }, address)))))));

      const certs = st.certificates || [];
      grid.append(panel("Certificates", certs.length === 0 ? el("p", { class: "empty" }, "No certificate.") : el("table", { id: "health-certificates" },
        el("thead", {}, el("tr", {}, ["Name", "Expires", "Days left", ""].map((x) => el("th", { scope: "col", class: x === "Days left" ? "num" : undefined }, x)))),
        el("tbody", {}, certs.map((c) => {
          const days = Number(c.days_left);
          return el("tr", {}, el("td", {}, c.name),
            el("td", { class: "nowrap" }, timeCell(c.not_after)),
            el("td", { class: `num days ${days < 7 ? "bad" : days < 21 ? "warn" : ""}` }, Number.isFinite(days) ? String(days) : ""),
            el("td", {}, c.default ? "default" : ""));
        })))));

      const keys = h.DkimKeys || [];
      grid.append(panel("DKIM keys", keys.length === 0 ? el("p", { class: "empty" }, "No DKIM key: outgoing mail is not signed.") : el("table", { id: "health-dkim" },
        el("thead", {}, el("tr", {}, ["Domain", "Selector", "Algorithm"].map((x) => el("th", { scope: "col" }, x)))),
        el("tbody", {}, keys.map((k) => el("tr", {}, el("td", {}, k.Domain), el("td", { class: "mono" }, k.Selector), el("td", {}, k.Algorithm)))))));

      const relays = h.Relays || [];
      grid.append(panel("Relays", relays.length === 0
        ? el("p", { class: "empty" }, "No [[relay]]: remote mail goes to the recipients' MX hosts.")
        : el("div", { id: "health-relays" }, relays.map((r, i) => relayBlock(r, i)))));

      // The local domains: those the server names (Domains, when it does) and those with DKIM
      // keys; any other domain can be typed in.
      const domains = [];
      for (const d of (h.Domains || []).concat(keys.map((k) => k.Domain))) {
        const name = typeof d === "string" ? d : d && (d.Domain || d.Name);
        if (name && !domains.includes(name)) domains.push(name);
      }
      const other = el("input", { type: "text", id: "dns-domain", placeholder: "example.com", size: 22 });
      const otherResult = el("div", { id: "dns-other-result" });
      const otherForm = el("form", { class: "relay-test", onsubmit: (e) => {
        e.preventDefault();
        const name = other.value.trim();
        if (name) runDnsCheck(name, otherResult, otherForm.querySelector("button"));
      } }, el("label", { class: "inline", for: "dns-domain" }, "Domain"), other, el("button", { type: "submit" }, "Check DNS"));
      grid.append(panel("DNS of the local domains",
        el("div", { id: "health-dns" }, domains.map((d) => dnsBlock(d))),
        otherForm, otherResult));

      const errors = st.reload_errors || [];
      if (errors.length) grid.append(panel("Reload errors", genericTable(errors, "health-reload-errors")));
      status.textContent = `checked ${formatTime(new Date().toISOString(), { seconds: true })}`;
    }
    load();
  }

  function relayBlock(relay, index) {
    const n = relay.Relay !== undefined ? relay.Relay : index;
    const name = [relay.Host && `${relay.Host}:${relay.Port || ""}`, relay.Tls && `tls ${relay.Tls}`,
      relay.Username && `as ${relay.Username}`, (relay.Domains || []).length ? `for ${relay.Domains.join(", ")}` : ""].filter(Boolean).join(" · ");
    const sendTo = el("input", { type: "email", id: `relay-send-to-${n}`, placeholder: "optional: send a test message to", size: 28 });
    const result = el("div", { class: "relay-result", id: `relay-result-${n}`, role: "status" });
    const button = el("button", { type: "button", id: `relay-test-${n}` }, "Test");
    button.addEventListener("click", async () => {
      button.disabled = true;
      clear(result).append("Testing…");
      const to = sendTo.value.trim();
      const r = await guarded(() => api("POST", `/api/hikyaku/relay/${n}/test`, to ? { SendTo: to } : {}));
      button.disabled = false;
      clear(result);
      if (!r) return;
      append(result, el("span", { class: `badge ${r.Ok ? "ok" : "bad"}` }, r.Ok ? "works" : "failed"),
        r.Error ? el("span", { class: "reply" }, ` ${r.Error}`) : null,
        el("ul", { class: "steps" }, (r.Steps || []).map((s) => el("li", {},
          el("span", { class: `badge ${s.Ok ? "ok" : "bad"}` }, s.Ok ? "ok" : "failed"), " ", s.Step,
          s.Detail ? el("div", { class: "reply mono" }, s.Detail) : null))));
    });
    return el("div", { class: "relay" }, el("p", {}, el("strong", {}, `#${n} `), name || JSON.stringify(relay)),
      el("div", { class: "relay-test" }, labelled(`Send a test message through relay ${n} to`, sendTo), button), result);
  }

  // check-dns for one domain into `result`: one row per record (Status ok, none, MISSING or
  // DIFFERS).
  async function runDnsCheck(domain, result, button) {
    if (button) button.disabled = true;
    clear(result).append("Checking…");
    const r = await guarded(() => api("GET", `/api/hikyaku/dns/${enc(domain)}`));
    if (button) button.disabled = false;
    clear(result);
    if (!r) return;
    append(result, el("p", {}, el("span", { class: `badge ${r.Ok ? "ok" : "bad"}` }, r.Ok ? "all good" : "needs attention"), ` ${r.Domain || domain}`),
      el("table", { class: "dns-rows" }, el("thead", {}, el("tr", {}, ["Record", "Status", "Detail"].map((x) => el("th", { scope: "col" }, x)))),
        el("tbody", {}, (r.Rows || []).map((row) => el("tr", {},
          el("td", { class: "nowrap" }, row.What),
          el("td", {}, el("span", { class: `badge ${String(row.Status || "").toLowerCase()}` }, row.Status)),
          el("td", { class: "reply mono" }, row.Detail))))));
  }
  function dnsBlock(domain) {
    const result = el("div", { class: "dns-result" });
    const button = el("button", { type: "button", "aria-label": `Check the DNS records of ${domain}` }, "Check DNS");
    button.addEventListener("click", () => runDnsCheck(domain, result, button));
    return el("div", { class: "dns" }, el("p", {}, el("strong", {}, domain), " ", button), result);
  }

  // ---- start -------------------------------------------------------------------------------

  window.addEventListener("hashchange", route);
  connectEvents();
  route();
})();
