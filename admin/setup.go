package admin

import (
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// tokenInput is the VS Code input that prompts for the token.
const tokenInput = "gatehouse-token"

// clientSetup is what a user needs to connect a client to one connector:
// the plain URLs and ready-to-paste configuration for common clients. The
// token is never filled in: the user creates one (POST /admin/v1/tokens)
// and pastes it where the snippet says.
type clientSetup struct {
	Connector     string         `json:"connector"`
	URL           string         `json:"url"`
	SSEURL        string         `json:"sse_url"`
	ClaudeDesktop map[string]any `json:"claude_desktop"`
	Cursor        map[string]any `json:"cursor"`
	VSCode        map[string]any `json:"vscode"`
	// Local is set for local connectors: the server run directly on the
	// user's machine instead of through the gateway.
	Local        map[string]any `json:"local,omitempty"`
	Placeholders []string       `json:"placeholders,omitempty"`
	Notes        []string       `json:"notes"`
}

func setupFor(c *connector.Connector, base string) clientSetup {
	url := base + "/mcp/" + c.Slug
	s := clientSetup{
		Connector: c.Slug,
		URL:       url,
		SSEURL:    base + "/sse/" + c.Slug,
		// Claude Desktop's config file starts local STDIO servers only;
		// mcp-remote bridges it to a remote Streamable HTTP server.
		ClaudeDesktop: map[string]any{"mcpServers": map[string]any{c.Slug: map[string]any{
			"command": "npx",
			"args":    []string{"-y", "mcp-remote", url, "--header", "Authorization:${GATEHOUSE_AUTH}"},
			"env":     map[string]string{"GATEHOUSE_AUTH": "Bearer <your Gatehouse token>"},
		}}},
		Cursor: map[string]any{"mcpServers": map[string]any{c.Slug: map[string]any{
			"url":     url,
			"headers": map[string]string{"Authorization": "Bearer <your Gatehouse token>"},
		}}},
		VSCode: map[string]any{
			"inputs": []map[string]any{{"type": "promptString", "id": tokenInput, "description": "Gatehouse API token", "password": true}},
			"servers": map[string]any{c.Slug: map[string]any{
				"type": "http", "url": url,
				"headers": map[string]string{"Authorization": "Bearer ${input:" + tokenInput + "}"},
			}},
		},
		Placeholders: c.Placeholders(),
		Notes: []string{
			"Create a token with POST /admin/v1/tokens (or `gatehouse tokens create`); it is shown once.",
			"Claude Desktop: claude_desktop_config.json. Cursor: ~/.cursor/mcp.json. VS Code: .vscode/mcp.json.",
		},
	}
	if len(s.Placeholders) > 0 {
		s.Notes = append(s.Notes, "This connector needs your own values for its placeholders: PUT /admin/v1/connectors/"+c.Slug+"/credentials.")
	}
	if c.Hosting == connector.HostingLocal && c.Transport == connector.TransportSTDIO {
		env := map[string]string{}
		for k := range c.Env {
			env[k] = "<value>"
		}
		s.Local = map[string]any{"mcpServers": map[string]any{c.Slug: map[string]any{
			"command": c.Command, "args": c.Args, "env": env,
		}}}
		s.Notes = append(s.Notes, "A local connector can also run on your machine: the local snippet starts it directly (then Gatehouse's policies and guards do not apply).")
	}
	return s
}

func (a *API) connectorSetup(ctx *fasthttp.RequestCtx, p auth.Principal, slug string) {
	c, ok := a.load(ctx, p, slug)
	if !ok {
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, setupFor(c, a.PublicURL))
}
