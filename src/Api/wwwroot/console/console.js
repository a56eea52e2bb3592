// The CallNotify operator console. No framework, no build step: it reads the admin API with the admin key the
// operator signs in with. The key is kept for this tab only (sessionStorage) and sent as Authorization: Bearer; it is
// never put in a URL or a cookie. Every value from the API is written as text, never as HTML.
"use strict";

const KEY = "callnotify.adminKey";
const POLL_MS = 3000;
const view = document.getElementById("view");
const banner = document.getElementById("banner");
let pollTimer = null;
let renderSeq = 0;

// ---- small DOM helpers -------------------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "onclick" || name === "onsubmit") node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

function table(headers, rows, empty) {
  if (rows.length === 0) return el("p", { class: "muted", text: empty });
  return el("table", {},
    el("thead", {}, el("tr", {}, headers.map(h => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.map(cells => el("tr", {}, cells.map(c => el("td", {}, c ?? "—"))))));
}

function when(value) {
  return value ? new Date(value).toLocaleString() : "—";
}

function link(path, text) {
  return el("a", { href: path, "data-link": true, text });
}

function field(label, name, value = "", type = "text") {
  return el("label", {}, label, el("input", { name, value, type, required: true, autocomplete: "off", spellcheck: "false" }));
}

function showBanner(message) {
  banner.textContent = message;
  banner.hidden = !message;
}

// ---- the admin API ---------------------------------------------------------------------------------------------

class NotSignedIn extends Error {}

async function api(method, path, body) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new NotSignedIn();
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { Authorization: "Bearer " + key, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    showBanner("The service cannot be reached. Retrying…");
    throw new Error("unreachable");
  }
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    throw new NotSignedIn();
  }
  if (response.status === 503) {
    showBanner("The store is unavailable: what is shown may be out of date. Retrying…");
    throw new Error("store unavailable");
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  return { status: response.status, ok: response.ok, json };
}

// ---- routing ---------------------------------------------------------------------------------------------------

function route() {
  const parts = location.pathname.replace(/^\/console\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "identities" && parts.length === 3) return { name: "identity", accountSid: parts[1], identity: parts[2] };
  if (parts[0] === "notifications" && parts.length === 3) return { name: "notification", accountSid: parts[1], twiMessageId: parts[2] };
  return { name: "overview" };
}

function go(path) {
  history.pushState(null, "", path);
  render();
}

document.addEventListener("click", event => {
  const anchor = event.target.closest("a[data-link]");
  if (anchor && event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
    event.preventDefault();
    go(anchor.getAttribute("href"));
  }
});
window.addEventListener("popstate", () => render());

// A view is its fixed part (headings, forms, action results), drawn once, and its live part, fetched again every
// few seconds while the view is open: typing in a form or reading a result is never interrupted.
const views = {
  overview: { head: overviewHead, live: overviewLive },
  identity: { head: identityHead, live: identityLive },
  notification: { head: () => [], live: notificationLive },
};

async function render() {
  const seq = ++renderSeq;
  clearTimeout(pollTimer);
  const signedIn = !!sessionStorage.getItem(KEY);
  document.getElementById("signed-in").hidden = !signedIn;
  document.getElementById("test-client").hidden = !signedIn;
  if (!signedIn) {
    showSignIn();
    return;
  }
  const current = route();
  const live = el("div", { id: "live" });
  if (!(await update(seq, current, live))) return;
  view.replaceChildren(...views[current.name].head(current), live);
  pollTimer = setTimeout(() => refresh(seq, current, live), POLL_MS);
}

async function refresh(seq, current, live) {
  if (seq !== renderSeq) return;
  if (await update(seq, current, live)) pollTimer = setTimeout(() => refresh(seq, current, live), POLL_MS);
}

/** Fetches the live part into its container; false when the view is gone or the operator must sign in again. */
async function update(seq, current, live) {
  try {
    const content = await views[current.name].live(current);
    if (seq !== renderSeq) return false;
    live.replaceChildren(...content.flat().filter(node => node !== null && node !== undefined));
    // Every read of the view answered: whatever was wrong is over.
    showBanner("");
    return true;
  } catch (error) {
    if (error instanceof NotSignedIn) {
      showSignIn("Not signed in: the admin key was refused. Sign in again.");
      return false;
    }
    // Unreachable, or the store is down: the banner says so, the last content stays, and it is tried again.
    return seq === renderSeq;
  }
}

// ---- sign-in ---------------------------------------------------------------------------------------------------

function showSignIn(message) {
  document.getElementById("signed-in").hidden = true;
  document.getElementById("test-client").hidden = true;
  const form = el("form", { id: "sign-in", onsubmit: signIn },
    el("label", {}, "Admin key", el("input", { id: "admin-key", name: "key", type: "password", required: true, autocomplete: "off" })),
    el("button", { type: "submit", id: "sign-in-button", text: "Sign in" }));
  view.replaceChildren(...[
    el("h1", { text: "Sign in" }),
    el("p", { class: "hint", text: "An admin key (Admin:ApiKeys). It is kept for this tab only and sent to the admin API as Authorization: Bearer." }),
    message ? el("p", { class: "bad", role: "alert", id: "sign-in-message", text: message }) : null,
    form,
  ].filter(Boolean));
  form.querySelector("input").focus();
}

async function signIn(event) {
  event.preventDefault();
  const key = new FormData(event.target).get("key");
  sessionStorage.setItem(KEY, key);
  try {
    await api("GET", "/admin/v1/overview");
  } catch (error) {
    if (error instanceof NotSignedIn) {
      showSignIn("Not signed in: the admin key was refused.");
      return;
    }
  }
  await render();
}

document.getElementById("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  testClient.disconnect();
  go("/console");
});

// ---- overview --------------------------------------------------------------------------------------------------

function overviewHead() {
  return [
    el("h1", { text: "Overview" }),
    el("h2", { text: "Find an identity" }),
    el("form", { id: "find-identity", onsubmit: findIdentity }, field("Account SID", "accountSid", lastAccount()), field("Identity", "identity"),
      el("button", { type: "submit", text: "Show" })),
    el("h2", { text: "Send a test call" }),
    el("p", { class: "hint", text: "A call notification through the real webhook path, signed here with the account's Auth Token. Its bridge token is a placeholder: a real Voice SDK shows an invite it cannot answer." }),
    el("form", { id: "test-call", onsubmit: sendTestCall }, field("Account SID", "accountSid", lastAccount()), field("Identity", "identity"),
      el("button", { type: "submit", text: "Send test call" })),
    el("div", { id: "test-call-result", role: "status" }),
  ];
}

async function overviewLive() {
  const { json: o } = await api("GET", "/admin/v1/overview");
  const store = o.store;
  return [
    el("h2", { text: "Service" }),
    el("div", { class: "cards" },
      el("div", { class: "card" }, el("div", { class: "muted", text: "Store" }),
        el("div", { class: "value " + (store.reachable ? "ok" : "bad"), id: "store-state", text: store.reachable ? "up" : "down" }),
        el("div", { class: "muted", text: store.provider })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Instances alive" }), el("div", { class: "value", text: store.instancesAlive ?? "—" })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Live sessions" }), el("div", { class: "value", id: "live-sessions", text: store.liveSessions ?? "—" })),
      el("div", { class: "card" }, el("div", { class: "muted", text: "Channels on" }),
        el("div", { class: "value", text: o.channels.filter(c => c.enabled).length + " / " + o.channels.length }),
        el("div", { class: "muted", text: o.channels.map(c => c.channel + (c.enabled ? " on" : " off")).join(", ") }))),
    el("h2", { text: `Webhooks, last ${o.windowMinutes} minutes (this instance)` }),
    table(["Answer", "Count"], o.webhooks.map(w => [String(w.status), String(w.count)]), "No webhook yet."),
    el("h2", { text: `Delivery attempts, last ${o.windowMinutes} minutes (this instance)` }),
    table(["Channel", "Outcome", "Count"], o.deliveries.map(d => [d.channel, d.outcome, String(d.count)]), "No delivery yet."),
  ];
}

function lastAccount() {
  return sessionStorage.getItem("callnotify.account") || "";
}

function findIdentity(event) {
  event.preventDefault();
  const data = new FormData(event.target);
  sessionStorage.setItem("callnotify.account", data.get("accountSid"));
  go(`/console/identities/${encodeURIComponent(data.get("accountSid"))}/${encodeURIComponent(data.get("identity"))}`);
}

async function sendTestCall(event) {
  event.preventDefault();
  const data = new FormData(event.target);
  const accountSid = data.get("accountSid");
  sessionStorage.setItem("callnotify.account", accountSid);
  const target = document.getElementById("test-call-result");
  target.replaceChildren(el("p", { text: "Sending…" }));
  try {
    const { ok, json } = await api("POST", "/admin/v1/test-calls", { accountSid, identity: data.get("identity") });
    target.replaceChildren(ok
      ? el("p", {}, "The webhook answered ", el("strong", { id: "test-call-answer", text: `${json.answer.status} ${json.answer.title}` }), ". ",
          link(`/console/notifications/${encodeURIComponent(accountSid)}/${encodeURIComponent(json.twiMessageId)}`, "Open its notification"))
      : el("p", { class: "bad", text: problemText(json) }));
  } catch (error) {
    if (error instanceof NotSignedIn) render();
  }
}

function problemText(problem) {
  if (!problem) return "Refused.";
  const errors = problem.errors ? Object.entries(problem.errors).map(([k, v]) => `${k}: ${v.join(" ")}`).join("; ") : "";
  return [problem.title, problem.detail, errors].filter(Boolean).join(" — ");
}

// ---- identity --------------------------------------------------------------------------------------------------

function identityHead({ accountSid, identity }) {
  return [
    el("h1", {}, "Identity ", el("code", { text: identity })),
    el("p", { class: "muted", text: accountSid }),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "danger", id: "sign-out-identity", onclick: () => signOutIdentity(accountSid, identity), text: "Sign out everywhere" }),
      " ",
      el("button", { type: "button", class: "secondary", id: "issue-token", onclick: () => issueToken(accountSid, identity), text: "Issue a WebSocket token" })),
    el("div", { id: "identity-result", role: "status" }),
  ];
}

async function identityLive({ accountSid, identity }) {
  const query = `accountSid=${encodeURIComponent(accountSid)}&identity=${encodeURIComponent(identity)}`;
  const [bindings, sessions, notifications] = await Promise.all([
    api("GET", `/admin/v1/bindings?${query}&pageSize=200`),
    api("GET", `/admin/v1/sessions?${query}`),
    api("GET", `/admin/v1/notifications?${query}&pageSize=20`),
  ]);
  if (!bindings.ok) return [el("p", { class: "bad", text: problemText(bindings.json) })];
  return [
    el("h2", { text: "Bindings" }),
    table(["Channel", "Address", "Status", "Last delivery", "Expires", ""],
      bindings.json.bindings.map(b => [
        b.channel,
        el("code", { text: b.address }),
        el("span", { class: b.status === "active" ? "ok" : "bad", text: b.status + (b.inactiveReason ? ` (${b.inactiveReason})` : "") }),
        when(b.lastDeliveryAt),
        when(b.expiresAt),
        el("button", { type: "button", class: "danger", "data-binding": b.id, "aria-label": `Delete binding ${b.id}`, onclick: () => deleteBinding(b.id), text: "Delete" }),
      ]), "No binding."),
    el("h2", { text: "Live WebSocket sessions" }),
    table(["Session", "Instance", "Connected"], sessions.ok ? sessions.json.sessions.map(s => [s.sessionId, s.instanceId, when(s.connectedAt)]) : [], "No live session."),
    el("h2", { text: "Recent notifications" }),
    table(["Received", "Message", "From", "Outcome"],
      notifications.ok ? notifications.json.notifications.map(n => [
        when(n.receivedAt),
        link(`/console/notifications/${encodeURIComponent(accountSid)}/${encodeURIComponent(n.twiMessageId)}`, n.twiMessageId),
        n.from + (n.test ? " (test)" : ""),
        n.outcome,
      ]) : [], "No notification."),
  ];
}

async function deleteBinding(id) {
  if (!confirm("Delete this binding? The device stops receiving calls until it registers again.")) return;
  const { ok, json } = await api("DELETE", `/admin/v1/bindings/${encodeURIComponent(id)}`);
  if (!ok) document.getElementById("identity-result").replaceChildren(el("p", { class: "bad", text: problemText(json) }));
  await render();
}

async function signOutIdentity(accountSid, identity) {
  if (!confirm(`Sign ${identity} out everywhere? Every binding is deleted, live sessions are closed and older tokens refused.`)) return;
  const { json } = await api("DELETE", `/admin/v1/bindings?accountSid=${encodeURIComponent(accountSid)}&identity=${encodeURIComponent(identity)}`);
  await render();
  document.getElementById("identity-result").replaceChildren(el("p", { text: `Signed out: ${json.deleted} binding(s) deleted.` }));
}

async function issueToken(accountSid, identity) {
  if (!confirm(`Issue a WebSocket token for ${identity}? Whoever holds it receives this identity's calls for an hour.`)) return;
  const { ok, json } = await api("POST", "/admin/v1/websocket-tokens", { accountSid, identity });
  document.getElementById("identity-result").replaceChildren(ok
    ? el("p", {}, "Token (expires ", when(json.expiresAt), "): ", el("code", { text: json.token }))
    : el("p", { class: "bad", text: problemText(json) }));
}

// ---- notification ----------------------------------------------------------------------------------------------

async function notificationLive({ accountSid, twiMessageId }) {
  const { ok, json: n } = await api("GET", `/admin/v1/notifications/${encodeURIComponent(twiMessageId)}?accountSid=${encodeURIComponent(accountSid)}`);
  if (!ok) return [el("h1", { text: twiMessageId }), el("p", { class: "bad", text: problemText(n) })];
  return [
    el("h1", {}, "Notification ", el("code", { text: n.twiMessageId })),
    table(["Received", "From", "To", "Call", "Outcome"], [[
      when(n.receivedAt),
      n.from + (n.test ? " (test call)" : ""),
      link(`/console/identities/${encodeURIComponent(n.accountSid)}/${encodeURIComponent(n.identity)}`, n.to),
      n.callSid,
      el("strong", { id: "outcome", class: n.outcome === "delivered" ? "ok" : n.outcome === "pending" ? "warn" : "bad", text: n.outcome }),
    ]], ""),
    el("h2", { text: "Deliveries" }),
    n.deliveries.length === 0 ? el("p", { class: "muted", text: "No delivery." }) : null,
    n.deliveries.map(d => el("section", { class: "delivery", "aria-label": `Delivery over ${d.channel}` },
      el("p", {},
        el("strong", { text: d.channel }), " to ", el("code", { text: d.bindingId ?? d.sessionId }), ": ",
        el("span", { class: "delivery-status " + (d.status === "accepted" ? "ok" : d.status === "pending" ? "warn" : "bad"), text: d.status }),
        ` · ${d.attempts} attempt(s)`,
        d.acknowledgedAt ? el("span", { class: "ok acknowledged" }, " · received ", when(d.acknowledgedAt)) : null,
        d.lastError ? el("span", { class: "bad" }, " · last error ", el("code", { text: d.lastError })) : null),
      el("ol", { class: "timeline" }, d.events.map(e => el("li", { class: e.kind },
        el("span", { class: "muted", text: when(e.at) + " " }), el("strong", { class: "event-kind", text: e.kind }), e.detail ? ` ${e.detail}` : ""))))),
  ];
}

// ---- the test client pane ----------------------------------------------------------------------------------------

const testClient = (() => {
  const form = document.getElementById("test-client-form");
  const status = document.getElementById("tc-status");
  const invites = document.getElementById("tc-invites");
  const connectButton = document.getElementById("tc-connect");
  const disconnectButton = document.getElementById("tc-disconnect");
  let socket = null;

  function setConnected(connected, text) {
    status.textContent = text;
    connectButton.hidden = connected;
    disconnectButton.hidden = !connected;
  }

  form.addEventListener("submit", async event => {
    event.preventDefault();
    const accountSid = form.accountSid.value;
    const identity = form.identity.value;
    try {
      const { ok, json } = await api("POST", "/admin/v1/websocket-tokens", { accountSid, identity });
      if (!ok) { status.textContent = problemText(json); return; }
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(`${scheme}//${location.host}/v1/websocket?token=${encodeURIComponent(json.token)}`);
      status.textContent = "Connecting…";
      socket.onopen = () => setConnected(true, `Connected as ${identity}.`);
      socket.onclose = event => { socket = null; setConnected(false, `Closed (${event.code}${event.reason ? " " + event.reason : ""}).`); };
      socket.onmessage = event => {
        let messageId = "";
        try { messageId = JSON.parse(event.data).twi_message_id ?? ""; } catch { /* not JSON: shown as it came */ }
        const acked = el("span", { class: "muted", text: " not acknowledged" });
        invites.prepend(el("li", { class: "invite" }, el("strong", { text: "Invite " }), el("code", { class: "invite-id", text: messageId }), acked,
          el("pre", { text: event.data })));
        if (messageId && socket) {
          socket.send(JSON.stringify({ type: "ack", twi_message_id: messageId }));
          acked.textContent = " acknowledged";
          acked.className = "ok acked";
        }
      };
    } catch (error) {
      if (error instanceof NotSignedIn) render();
    }
  });
  disconnectButton.addEventListener("click", () => socket?.close());
  // Leaving the page ends the test client's session at once, rather than when the browser drops the page.
  window.addEventListener("pagehide", () => socket?.close(1000, "page left"));
  return { disconnect: () => socket?.close() };
})();

render();
