// Runs the official TypeScript SDK client's OAuth flow against a gateway:
// the SDK (its OAuthClientProvider, client/auth.js) discovers the resource
// and authorization server metadata, registers (dynamic registration, or a
// client ID metadata document URL with --client-metadata-url), starts PKCE;
// this script plays the browser (fetches the authorize URL, posts the
// sign-in and consent forms, captures the code from the redirect) and
// calls transport.finishAuth(code); then it lists tools and calls echo.
// Prints one JSON object: {ok, error?, result: {...}}.
import { findNodeModules, sdkImporter } from "./sdk.mjs";

function arg(name, def) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 ? process.argv[i + 1] : def;
}
const url = arg("url");
const user = arg("user");
const password = arg("password");
const redirect = arg("redirect", "http://127.0.0.1:53682/callback");
const metadataUrl = arg("client-metadata-url");
if (!url || !user || !password) {
  console.error("usage: oauth.mjs --url MCP_URL --user U --password P [--redirect URI] [--client-metadata-url URL]");
  process.exit(2);
}

const sdk = sdkImporter(findNodeModules());
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UnauthorizedError } = await sdk("client/auth.js");

class Provider {
  constructor() {
    this.authUrl = undefined;
    this.info = undefined;
    this.tok = undefined;
    this.verifier = undefined;
    if (metadataUrl) this.clientMetadataUrl = metadataUrl;
  }
  get redirectUrl() { return redirect; }
  get clientMetadata() {
    return {
      client_name: "TypeScript SDK e2e client",
      redirect_uris: [redirect],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      application_type: "native",
    };
  }
  clientInformation() { return this.info; }
  saveClientInformation(i) { this.info = i; }
  tokens() { return this.tok; }
  saveTokens(t) { this.tok = t; }
  redirectToAuthorization(u) { this.authUrl = u; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

// browse plays the user's browser: one cookie jar, no redirects followed.
async function browse(authUrl) {
  const jar = new Map();
  const go = async (u, init = {}) => {
    const headers = new Headers(init.headers || {});
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const resp = await fetch(u, { ...init, headers, redirect: "manual" });
    for (const c of resp.headers.getSetCookie()) {
      const [kv] = c.split(";");
      const i = kv.indexOf("=");
      jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return resp;
  };
  const fields = (html) => {
    const out = {};
    for (const m of html.matchAll(/name="(request|csrf)" value="([^"]+)"/g)) out[m[1]] = m[2];
    if (!out.request || !out.csrf) throw new Error("no form in page: " + html.slice(0, 500));
    return out;
  };
  const post = (path, form) => go(new URL(path, authUrl), {
    method: "POST", body: new URLSearchParams(form),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  let resp = await go(authUrl);
  if (resp.status !== 200) throw new Error(`authorize page: HTTP ${resp.status}: ${await resp.text()}`);
  resp = await post("/oauth/login", { ...fields(await resp.text()), username: user, password });
  if (resp.status === 200) {
    const consentPage = await resp.text();
    resp = await post("/oauth/consent", { ...fields(consentPage), decision: "allow" });
  }
  if (resp.status !== 302) throw new Error(`sign-in: HTTP ${resp.status}: ${await resp.text()}`);
  const back = new URL(resp.headers.get("location"));
  if (back.origin + back.pathname !== new URL(redirect).origin + new URL(redirect).pathname) {
    throw new Error("redirected elsewhere: " + back);
  }
  return { code: back.searchParams.get("code"), iss: back.searchParams.get("iss"), error: back.searchParams.get("error") };
}

const out = { ok: false };
try {
  const provider = new Provider();
  let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  let first = new Client({ name: "oauth-e2e", version: "1.0.0" });
  let challenged = false;
  try {
    await first.connect(transport);
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
    challenged = true;
  }
  if (!challenged || !provider.authUrl) throw new Error("the gateway did not ask for authorization");
  const authUrl = new URL(provider.authUrl);
  const back = await browse(authUrl);
  if (back.error || !back.code) throw new Error("authorization failed: " + back.error);
  await transport.finishAuth(back.code);

  transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  const client = new Client({ name: "oauth-e2e", version: "1.0.0" });
  await client.connect(transport);
  const tools = await client.listTools();
  const echo = await client.callTool({ name: "echo", arguments: { message: "hello through oauth" } });
  await client.close();
  out.ok = true;
  out.result = {
    clientId: provider.info?.client_id,
    authorize: {
      codeChallengeMethod: authUrl.searchParams.get("code_challenge_method"),
      resource: authUrl.searchParams.get("resource"),
      scope: authUrl.searchParams.get("scope"),
    },
    iss: back.iss,
    tokenScope: provider.tok?.scope,
    hasRefreshToken: !!provider.tok?.refresh_token,
    accessToken: provider.tok?.access_token,
    tools: tools.tools.map((t) => t.name),
    echo: echo.content?.[0]?.text,
  };
} catch (e) {
  out.error = String(e?.stack || e);
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
