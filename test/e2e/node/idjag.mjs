// Runs enterprise-managed authorization (SEP-990) with the official
// TypeScript SDK client (@modelcontextprotocol/client, its
// CrossAppAccessProvider): the SDK discovers the gateway's authorization
// server, the assertion callback trades the user's ID token at the IdP for
// an ID-JAG (RFC 8693, the SDK's discoverAndRequestJwtAuthGrant), and the
// SDK redeems it at the gateway (RFC 7523 jwt-bearer); then it lists tools
// and calls echo. Prints one JSON object: {ok, error?, result: {...}}.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { findNodeModules } from "./sdk.mjs";

function arg(name, def) {
  const i = process.argv.indexOf("--" + name);
  return i >= 0 ? process.argv[i + 1] : def;
}
const url = arg("url");
const clientId = arg("client-id");
const clientSecret = arg("client-secret");
const issuer = arg("expected-issuer");
const idp = arg("idp");
const idpClient = arg("idp-client");
const idToken = arg("id-token");
if (!url || !clientId || !clientSecret || !issuer || !idp || !idpClient || !idToken) {
  console.error("usage: idjag.mjs --url MCP_URL --client-id ID --client-secret S --expected-issuer ISS --idp IDP_URL --idp-client ID --id-token T");
  process.exit(2);
}

const entry = join(findNodeModules(), "@modelcontextprotocol", "client", "dist", "index.mjs");
if (!existsSync(entry)) throw new Error(`@modelcontextprotocol/client not found at ${entry} — run 'make tools'`);
const { Client, StreamableHTTPClientTransport, CrossAppAccessProvider, discoverAndRequestJwtAuthGrant } =
  await import(pathToFileURL(entry).href);

const out = { ok: false };
const seen = {};
try {
  const provider = new CrossAppAccessProvider({
    clientId,
    clientSecret,
    expectedIssuer: issuer,
    assertion: async (ctx) => {
      seen.audience = ctx.authorizationServerUrl;
      seen.resource = ctx.resourceUrl;
      const grant = await discoverAndRequestJwtAuthGrant({
        idpUrl: idp,
        audience: ctx.authorizationServerUrl,
        resource: ctx.resourceUrl,
        idToken,
        clientId: idpClient,
        scope: ctx.scope,
        fetchFn: ctx.fetchFn,
      });
      return grant.jwtAuthGrant;
    },
  });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  const client = new Client({ name: "idjag-e2e", version: "1.0.0" });
  await client.connect(transport);
  const tools = await client.listTools();
  const echo = await client.callTool({ name: "echo", arguments: { message: "hello through an identity assertion" } });
  await client.close();
  const tok = provider.tokens();
  out.ok = true;
  out.result = {
    audience: String(seen.audience ?? ""),
    resource: String(seen.resource ?? ""),
    tokenScope: tok?.scope,
    hasRefreshToken: !!tok?.refresh_token,
    accessToken: tok?.access_token,
    tools: tools.tools.map((t) => t.name),
    echo: echo.content?.[0]?.text,
  };
} catch (e) {
  out.error = String(e?.stack || e);
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
