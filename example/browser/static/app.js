// The page of the ginfresh browser demo. The access and refresh tokens are
// in HttpOnly cookies, so this script never sees them. It reads the CSRF
// cookie and repeats it in the X-CSRF-Token header of every request that
// changes state: another site can make the browser send the cookies, but
// cannot read them or set that header.
"use strict";

const CSRF_COOKIE = "__Host-csrf-token";
const API = "/browser/";
const $ = (id) => document.getElementById(id);

let user = "";
let refreshTimer = 0;
let refreshAt = 0; // when the planned refresh runs, in browser time (ms)

function csrfToken() {
  for (const pair of document.cookie.split("; ")) {
    const eq = pair.indexOf("=");
    if (pair.slice(0, eq) === CSRF_COOKIE) return pair.slice(eq + 1);
  }
  return "";
}

// call sends one request to the cookie-mode API; the browser adds the cookies.
async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const csrf = csrfToken();
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  if (res.status !== 204) {
    try { data = await res.json(); } catch { data = null; }
  }
  return { status: res.status, data, error: data && data.error, challenge: res.headers.get("WWW-Authenticate") || "" };
}

// needs reads what login a refusal asks for (RFC 9470): the levels of
// acr_values, and max_age.
function needs(r) {
  const acr = /acr_values="([^"]*)"/.exec(r.challenge);
  return { acr: acr ? acr[1].split(" ") : [] };
}

function describe(r) {
  const d = r.data || {};
  return `${r.status} ${d.error || ""}${d.error_description ? ` (${d.error_description})` : ""}`;
}

function log(text, kind) {
  const li = document.createElement("li");
  li.className = kind || "";
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("log").append(li);
}

// withSession runs fn; when the access token has expired or its cookie is
// gone, it refreshes once and runs fn again.
async function withSession(fn) {
  let r = await fn();
  if (r.status === 401 && (r.error === "invalid_token" || r.error === "unauthorized")) {
    log(`access token refused: ${describe(r)}; refreshing`, "refused");
    if (await refresh()) r = await fn();
  }
  return r;
}

// Every tab shares the one refresh cookie, and the server rotates it: a
// second refresh with a cookie already redeemed reads as a stolen token and
// ends the session. So refreshes run one at a time: callers in this page
// share the one in flight, and tabs take turns under a Web Lock. A tab that
// waited for its turn first looks whether another tab refreshed meanwhile,
// and if so uses the cookies that tab got instead of refreshing again.
const REFRESH_LOCK = "ginfresh-refresh";
const REFRESHED = "ginfresh-refreshed"; // localStorage: {at, expiresAt} of the last refresh, browser time (ms)
let refreshing = null;

function refresh() {
  if (!refreshing) {
    const asked = Date.now();
    const run = () => refreshTurn(asked);
    const turn = navigator.locks ? navigator.locks.request(REFRESH_LOCK, run) : run();
    refreshing = turn.finally(() => { refreshing = null; });
  }
  return refreshing;
}

function lastRefresh() {
  try { return JSON.parse(localStorage.getItem(REFRESHED)) || { at: 0 }; } catch { return { at: 0 }; }
}

// refreshTurn refreshes, holding the lock, unless another tab did since asked.
async function refreshTurn(asked) {
  if (!csrfToken()) {
    log("refresh skipped: the session cookies are gone (signed out, perhaps in another tab)", "refused");
    signedOut();
    return false;
  }
  const last = lastRefresh();
  if (last.at > asked) {
    log("refreshed in another tab: using its new access token", "ok");
    planUntil(last.expiresAt);
    return (await show()).status === 200;
  }
  const r = await call("POST", "refresh");
  if (r.status !== 200) {
    log(`refresh refused: ${describe(r)}`, "refused");
    signedOut();
    return false;
  }
  const now = Date.now();
  localStorage.setItem(REFRESHED, JSON.stringify({ at: now, expiresAt: now + r.data.expires_in * 1000 }));
  log(`refreshed: a new access token for ${human(r.data.expires_in)}, not fresh`, "ok");
  plan(r.data.expires_in);
  await show();
  return true;
}

// When another tab refreshes, this one moves its own planned refresh.
window.addEventListener("storage", (e) => {
  if (e.key !== REFRESHED || !refreshAt) return;
  const last = lastRefresh();
  if (last.expiresAt) planUntil(last.expiresAt);
});

// plan schedules a refresh shortly before the access token expires.
function plan(expiresIn) {
  clearTimeout(refreshTimer);
  const lead = Math.min(60, Math.floor(expiresIn / 5));
  const ms = Math.max(1, expiresIn - lead) * 1000;
  refreshAt = Date.now() + ms;
  refreshTimer = setTimeout(refresh, ms);
  tick();
}

// planUntil plans for an access token that expires at expiresAt (ms).
function planUntil(expiresAt) {
  plan(Math.max(1, Math.round((expiresAt - Date.now()) / 1000)));
}

function tick() {
  $("next-refresh").textContent = refreshAt
    ? `in ${human(Math.max(0, Math.round((refreshAt - Date.now()) / 1000)))}`
    : "–";
}

const clock = (unix) => new Date(unix * 1000).toLocaleTimeString();

function human(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 2 * 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

// show asks the server about the current access token and displays it.
async function show() {
  const r = await call("GET", "protected");
  if (r.status !== 200) return r;
  const t = r.data;
  user = t.user;
  $("status").textContent = `Signed in as ${t.user}`;
  $("fresh").textContent = t.fresh ? "fresh: the password was just proved" : "not fresh: minted by a refresh";
  $("fresh").className = t.fresh ? "fresh" : "stale";
  $("auth-time").textContent = `${clock(t.auth_time)} (${human(t.now - t.auth_time)} ago)`;
  $("expires").textContent = `${clock(t.expires_at)} (in ${human(t.expires_at - t.now)})`;
  signedIn();
  return r;
}

function signedIn() {
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  $("devices-card").hidden = false;
}

function signedOut() {
  clearTimeout(refreshTimer);
  refreshAt = 0;
  user = "";
  $("status").textContent = "Signed out";
  $("reauth").hidden = true;
  $("signed-in").hidden = true;
  $("devices-card").hidden = true;
  $("signed-out").hidden = false;
}

// reauthenticate asks for the password again (and a one-time code when
// the route wants acr "mfa") and resolves to true once fresh-login has
// answered a fresh access token.
function reauthenticate(withCode) {
  return new Promise((resolve) => {
    const form = $("reauth");
    $("reauth-message").textContent = withCode
      ? "This action needs a fresh login with your password and a one-time code."
      : "This action needs a fresh login. Enter your password again.";
    $("reauth-password").value = "";
    $("reauth-otp").value = "";
    $("reauth-otp-label").hidden = !withCode;
    form.hidden = false;
    $("reauth-password").focus();
    form.onsubmit = async (e) => {
      e.preventDefault();
      const body = { username: user, password: $("reauth-password").value };
      if (withCode) body.otp = $("reauth-otp").value;
      const r = await withSession(() => call("POST", "fresh-login", body));
      if (r.status !== 200) {
        log(`fresh login refused: ${describe(r)}`, "refused");
        $("reauth-message").textContent = `Refused: ${describe(r)}. Try again.`;
        return;
      }
      form.hidden = true;
      log(`fresh login: a fresh access token for ${human(r.data.expires_in)}`, "ok");
      plan(r.data.expires_in);
      await show();
      resolve(true);
    };
    $("reauth-cancel").onclick = () => {
      form.hidden = true;
      resolve(false);
    };
  });
}

// stepUp runs a request that may need a fresh login: when refused for
// insufficient_user_authentication it asks for the password (and a code if
// the challenge names acr "mfa"), then tries once more.
async function stepUp(what, send) {
  $("result").textContent = "";
  let r = await withSession(send);
  if (r.status === 401 && r.error === "insufficient_user_authentication") {
    log(`${what} refused: ${describe(r)}`, "refused");
    await show();
    if (!(await reauthenticate(needs(r).acr.includes("mfa")))) {
      log(`${what} cancelled`, "refused");
      return r;
    }
    r = await send();
  }
  return r;
}

async function sensitive() {
  const r = await stepUp("sensitive action", () => call("POST", "action"));
  if (r.status === 200) {
    log(`sensitive action done (${r.data.actions} so far)`, "ok");
    $("result").textContent = "Sensitive action done ✓";
  } else {
    log(`sensitive action failed: ${describe(r)}`, "refused");
    $("result").textContent = `Refused: ${describe(r)}`;
  }
}

async function pay() {
  const r = await stepUp("payment", () => call("POST", "payments"));
  if (r.status === 200) {
    log("payment done with a password and a one-time code", "ok");
    $("result").textContent = "Payment done ✓";
  } else {
    log(`payment failed: ${describe(r)}`, "refused");
    $("result").textContent = `Refused: ${describe(r)}`;
  }
}

// devices lists the user's sessions, each with a button that signs it out.
async function devices() {
  const r = await withSession(() => call("GET", "sessions"));
  const list = $("devices");
  list.textContent = "";
  if (r.status !== 200) {
    log(`devices: ${describe(r)}`, "refused");
    return;
  }
  for (const d of r.data.sessions) {
    const li = document.createElement("li");
    li.dataset.sid = d.id;
    const what = document.createElement("span");
    what.textContent = `${d.user_agent || "unknown client"} from ${d.address || "?"}, since ${clock(d.started)}` +
      (d.current ? " (this device)" : "");
    li.append(what);
    if (!d.current) {
      const out = document.createElement("button");
      out.type = "button";
      out.className = "sign-out";
      out.textContent = "Sign out";
      out.onclick = () => signOutDevice(d.id);
      li.append(" ", out);
    }
    list.append(li);
  }
  log(`devices: ${r.data.sessions.length} signed in`, "ok");
}

async function signOutDevice(sid) {
  const r = await stepUp("signing a device out", () => call("DELETE", `sessions/${encodeURIComponent(sid)}`));
  if (r.status === 204) log("a device was signed out: its tokens are refused from now on", "ok");
  else log(`signing a device out failed: ${describe(r)}`, "refused");
  await devices();
}

$("login-form").onsubmit = async (e) => {
  e.preventDefault();
  const r = await call("POST", "login", { username: $("username").value, password: $("password").value });
  $("password").value = "";
  if (r.status !== 200) {
    log(`sign-in refused: ${describe(r)}`, "refused");
    return;
  }
  log(`signed in: a fresh access token for ${human(r.data.expires_in)}, a session for ${human(r.data.refresh_expires_in)}`, "ok");
  plan(r.data.expires_in);
  await show();
  await devices();
};

$("call-protected").onclick = async () => {
  const r = await withSession(show);
  if (r.status === 200) log(`GET /protected: 200, user ${r.data.user}, fresh: ${r.data.fresh ? "yes" : "no"}`, "ok");
  else log(`GET /protected: ${describe(r)}`, "refused");
};

$("refresh").onclick = () => refresh();
$("sensitive").onclick = sensitive;
$("pay").onclick = pay;
$("list-devices").onclick = devices;

$("logout").onclick = async () => {
  const r = await call("POST", "logout");
  if (r.status === 204) log("signed out: the session is revoked and the cookies are cleared", "ok");
  else log(`sign-out refused: ${describe(r)}`, "refused");
  signedOut();
  const after = await call("GET", "protected");
  log(`GET /protected after sign-out: ${describe(after)}`, after.status === 200 ? "" : "ok");
};

setInterval(tick, 1000);

// A reload keeps the session: the cookies are still there.
(async () => {
  const r = await show();
  if (r.status === 200) {
    log(`session restored for ${r.data.user}`, "ok");
    plan(r.data.expires_at - r.data.now);
    await devices();
  } else if (csrfToken()) {
    await refresh(); // the access token expired, the session may not have
  } else {
    signedOut();
  }
})();
