// Plays the user's browser for the authorization-server conformance
// scenarios: opens the authorize URL the suite printed, signs in, allows
// the consent, and follows the redirect to the suite's callback server.
// usage: node oauth-browser.mjs AUTHORIZE_URL USER PASSWORD
const [authUrl, user, password] = process.argv.slice(2);
if (!authUrl || !user || !password) {
  console.error("usage: oauth-browser.mjs AUTHORIZE_URL USER PASSWORD");
  process.exit(2);
}
const jar = new Map();
async function go(u, init = {}) {
  const headers = new Headers(init.headers || {});
  if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
  const resp = await fetch(u, { ...init, headers, redirect: "manual" });
  for (const c of resp.headers.getSetCookie()) {
    const [kv] = c.split(";");
    const i = kv.indexOf("=");
    jar.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return resp;
}
function fields(html) {
  const out = {};
  for (const m of html.matchAll(/name="(request|csrf)" value="([^"]+)"/g)) out[m[1]] = m[2];
  if (!out.request || !out.csrf) throw new Error("no form in page: " + html.slice(0, 400));
  return out;
}
const post = (path, form) => go(new URL(path, authUrl), {
  method: "POST", body: new URLSearchParams(form), headers: { "content-type": "application/x-www-form-urlencoded" },
});
let resp = await go(authUrl);
if (resp.status !== 200) throw new Error(`authorize: HTTP ${resp.status}: ${await resp.text()}`);
resp = await post("/oauth/login", { ...fields(await resp.text()), username: user, password });
if (resp.status === 200) resp = await post("/oauth/consent", { ...fields(await resp.text()), decision: "allow" });
if (resp.status !== 302) throw new Error(`sign-in: HTTP ${resp.status}: ${await resp.text()}`);
const cb = await fetch(resp.headers.get("location"));
console.error(`[oauth-browser] callback answered HTTP ${cb.status}`);
