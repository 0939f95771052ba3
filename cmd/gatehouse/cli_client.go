package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminPrefix is where the gateway serves its admin API.
const adminPrefix = "/admin/v1"

// requestTimeout bounds one admin call, from dial to the last byte of the
// answer; a streamed export is bounded only until its headers arrive.
const requestTimeout = 30 * time.Second

// adminClient calls the admin API of one gateway with one token.
type adminClient struct {
	base  string // scheme://host[:port][/prefix], no trailing slash
	token string
	http  *http.Client
}

func newAdminClient(base, token string) *adminClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = requestTimeout
	return &adminClient{base: base, token: token, http: &http.Client{Transport: tr}}
}

// apiRequest is one admin API call.
type apiRequest struct {
	method string
	// path is below /admin/v1, with its segments already escaped
	// (see pathOf).
	path  string
	query url.Values
	// body is sent as given; nil sends none.
	body []byte
	// ifMatch is sent as the If-Match header when set.
	ifMatch string
}

// APIError is an error answer of the admin API: its status and the
// `{"error":{"code","message","field"}}` body.
type APIError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *APIError) Error() string {
	if e.Status == http.StatusUnauthorized {
		// The server's hint speaks HTTP; a CLI user sets a variable.
		reason, _, _ := strings.Cut(e.Message, ": send Authorization")
		return fmt.Sprintf("HTTP 401 %s: %s: set GATEHOUSE_TOKEN or pass --token with an API token (the owner token is printed at the gateway's first start; GATEHOUSE_ADMIN_TOKEN sets it when the gateway starts)", e.Code, reason)
	}
	msg := fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	return msg
}

// call sends r and returns the answer's body; a non-2xx answer is an
// *APIError.
func (c *adminClient) call(ctx context.Context, r apiRequest) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)
	}
	return body, nil
}

// stream sends r and returns the open answer for the caller to read and
// close; a non-2xx answer is an *APIError.
func (c *adminClient) stream(ctx context.Context, r apiRequest) (io.ReadCloser, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// getJSON sends r and decodes the answer into out, returning the raw body
// too (for --json).
func (c *adminClient) getJSON(ctx context.Context, r apiRequest, out any) ([]byte, error) {
	body, err := c.call(ctx, r)
	if err != nil {
		return nil, err
	}
	if out != nil && len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)
		}
	}
	return body, nil
}

// send performs r, turning error statuses into *APIError.
func (c *adminClient) send(ctx context.Context, r apiRequest) (*http.Response, error) {
	u := c.base + adminPrefix + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.ifMatch != "" {
		req.Header.Set("If-Match", r.ifMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, decodeAPIError(resp.StatusCode, raw)
}

// decodeAPIError reads the admin API's error body; anything else (a proxy's
// HTML page, an empty body) keeps the status and a short excerpt.
func decodeAPIError(status int, raw []byte) *APIError {
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &b) == nil && b.Error.Code != "" {
		return &APIError{Status: status, Code: b.Error.Code, Message: b.Error.Message, Field: b.Error.Field}
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Status: status, Code: "unexpected_answer", Message: msg}
}

// pathOf joins escaped segments into an API path: pathOf("connectors",
// slug) is "/connectors/<slug>".
func pathOf(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}
