// Command upstreamclient runs Gatehouse's upstream OAuth client
// (core/upstreamauth behind the real proxy) against one MCP server, as the
// conformance suite's `client --suite auth` scenarios drive a client: the
// server URL is the last argument, MCP_CONFORMANCE_SCENARIO names the
// scenario and MCP_CONFORMANCE_CONTEXT may hold a pre-registered client.
// It plays the user: the connect flow (its browser step follows the
// authorization server's redirect straight to the callback), then
// initialize, tools/list and a call of the first tool through the proxy.
// Exit status 0 when the session worked.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
	"github.com/gatehouse-mcp/gatehouse/core/upstreamauth"
)

// publicURL is the gateway the client pretends to be (HTTPS, so CIMD is
// possible); nothing listens there: the browser step catches the redirect.
const publicURL = "https://conformance-test.local"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: upstreamclient SERVER_URL")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := run(ctx, os.Args[len(os.Args)-1], os.Getenv("MCP_CONFORMANCE_CONTEXT")); err != nil {
		fmt.Fprintln(os.Stderr, "upstreamclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, serverURL, scenarioContext string) error {
	box, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		return err
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		return err
	}
	defer st.Close()
	o := &connector.OAuth2{}
	if scenarioContext != "" {
		var sc struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if err := json.Unmarshal([]byte(scenarioContext), &sc); err != nil {
			return fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
		}
		if sc.ClientID != "" {
			o = &connector.OAuth2{Registration: connector.RegistrationPreregistered, ClientID: sc.ClientID, ClientSecret: sc.ClientSecret}
		}
	}
	c := &connector.Connector{ID: "c1", Name: "Conformance", Slug: "conformance", URL: serverURL,
		Transport: connector.TransportStreamableHTTP, Auth: connector.Auth{Kind: connector.AuthOAuth2, OAuth2: o},
		Status: connector.StatusActive}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	reg := connector.NewRegistry([]*connector.Connector{c})
	client := streamhttp.NewClient()
	client.Timeout = 10 * time.Second
	svc := upstreamauth.New(st.UpstreamTokens(), reg, upstreamauth.Options{PublicURL: publicURL, HTTP: client,
		Log: zerolog.New(os.Stderr)})
	const user = "conformance"

	_, err = svc.Authorization(ctx, c, user)
	var rpcErr *mcp.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeUpstreamNotConnected {
		return fmt.Errorf("want the not-connected error first, got %v", err)
	}
	var data upstreamauth.NotConnectedData
	if err := json.Unmarshal(rpcErr.Data, &data); err != nil {
		return err
	}
	link, err := url.Parse(data.ConnectURL)
	if err != nil {
		return err
	}
	authURL, state, err := svc.Start(ctx, link.Query().Get("ticket"))
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	q, err := browse(ctx, authURL)
	if err != nil {
		return err
	}
	if _, err := svc.Callback(ctx, q, state); err != nil {
		return fmt.Errorf("callback: %w", err)
	}

	p := proxy.New(reg, nil, proxy.Options{CallTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		AllowPrivateNetworks: true, MaxMessageBytes: 1 << 20, UpstreamAuth: svc}, zerolog.New(os.Stderr))
	defer p.Close()
	principal := auth.Principal{User: user}
	init := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: mcp.MethodInitialize,
		Params: json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"gatehouse-upstreamclient","version":"1.0.0"}}`)}
	sess, resp, err := p.Initialize(ctx, principal, c.Slug, init)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if resp.Error != nil {
		return fmt.Errorf("initialize: %v", resp.Error)
	}
	list, _ := mcp.NewRequest(json.RawMessage("2"), mcp.MethodToolsList, map[string]any{})
	res, err := answer(ctx, sess, list)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	var tools struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(res, &tools); err != nil {
		return err
	}
	if len(tools.Tools) > 0 {
		call, _ := mcp.NewRequest(json.RawMessage("3"), mcp.MethodToolsCall, map[string]any{"name": tools.Tools[0].Name, "arguments": map[string]any{}})
		if _, err := answer(ctx, sess, call); err != nil {
			return fmt.Errorf("tools/call: %w", err)
		}
	}
	return nil
}

// browse plays the browser at the authorization server: it follows the
// redirects until one points at the gateway's callback and returns that
// callback's query.
func browse(ctx context.Context, authURL string) (url.Values, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := authURL
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			return nil, fmt.Errorf("authorization: HTTP %d without a redirect", resp.StatusCode)
		}
		u, err := req.URL.Parse(loc)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(u.String(), publicURL+upstreamauth.CallbackPath) {
			return u.Query(), nil
		}
		next = u.String()
	}
	return nil, errors.New("authorization: too many redirects")
}

// answer sends req in sess and returns its result.
func answer(ctx context.Context, sess *proxy.Session, req *mcp.Message) (json.RawMessage, error) {
	st, err := sess.Call(ctx, req)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for {
		m, err := st.Next(ctx)
		if err != nil {
			return nil, err
		}
		if m.Error != nil {
			return nil, m.Error
		}
		if m.Result != nil {
			return m.Result, nil
		}
	}
}
