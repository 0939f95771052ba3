package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Client credentials for the load (-auth): none (anonymous, the proxy
// alone), an API token, or an OAuth access token from the gateway's own
// authorization server (one per MCP endpoint: tokens are bound to one).

const (
	benchUser     = "bench"
	benchPassword = "a long load-test password"
	benchCallback = "http://127.0.0.1:53123/cb"
)

// credentials returns the Authorization value for each target URL.
func credentials(gw, mode string, targets []string) (map[string]string, error) {
	out := map[string]string{}
	switch mode {
	case "none":
		return out, nil
	case "token", "oauth":
	default:
		return nil, fmt.Errorf("-auth %q: use none, token or oauth", mode)
	}
	if err := adminCall(gw, http.MethodPost, "/admin/v1/users", `{"id":"`+benchUser+`","roles":["admin"]}`, http.StatusCreated); err != nil {
		return nil, err
	}
	if mode == "token" {
		var tok struct {
			Token string `json:"token"`
		}
		if err := adminJSON(gw, http.MethodPost, "/admin/v1/tokens", `{"name":"load","user":"`+benchUser+`"}`, http.StatusCreated, &tok); err != nil {
			return nil, err
		}
		for _, t := range targets {
			out[t] = "Bearer " + tok.Token
		}
		return out, nil
	}
	if err := adminCall(gw, http.MethodPut, "/admin/v1/users/"+benchUser+"/password", `{"password":"`+benchPassword+`"}`, http.StatusNoContent); err != nil {
		return nil, err
	}
	if err := adminCall(gw, http.MethodPost, "/admin/v1/redirects", `{"list":"allowed","uri":"`+benchCallback+`"}`, http.StatusCreated); err != nil {
		return nil, err
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	resp, err := http.Post(gw+"/oauth/register", "application/json", strings.NewReader(
		`{"client_name":"loadtest","redirect_uris":["`+benchCallback+`"],"token_endpoint_auth_method":"none","application_type":"native"}`))
	if err != nil {
		return nil, err
	}
	err = decodeStatus(resp, http.StatusCreated, &reg)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	for _, t := range targets {
		tok, err := signIn(gw, reg.ClientID, t)
		if err != nil {
			return nil, fmt.Errorf("OAuth token for %s: %w", t, err)
		}
		out[t] = "Bearer " + tok
	}
	return out, nil
}

var formField = regexp.MustCompile(`name="(request|csrf)" value="([^"]+)"`)

// signIn runs the authorization code flow with PKCE for resource, as a
// browser would (sign-in and consent forms), and returns the access token.
func signIn(gw, clientID, resource string) (string, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	verifier := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {benchCallback}, "scope": {"mcp"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {resource}, "state": {"s"}}
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(resp *http.Response, err error) (*http.Response, url.Values, error) {
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		v := url.Values{}
		for _, m := range formField.FindAllStringSubmatch(string(body), -1) {
			v.Set(m[1], m[2])
		}
		return resp, v, nil
	}
	_, form, err := page(b.Get(gw + "/oauth/authorize?" + q.Encode()))
	if err != nil {
		return "", err
	}
	form.Set("username", benchUser)
	form.Set("password", benchPassword)
	_, form, err = page(b.PostForm(gw+"/oauth/login", form))
	if err != nil {
		return "", err
	}
	form.Set("decision", "allow")
	resp, _, err := page(b.PostForm(gw+"/oauth/consent", form))
	if err != nil {
		return "", err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("no code after consent (HTTP %d to %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.PostForm(gw+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {benchCallback}, "client_id": {clientID}, "code_verifier": {verifier}, "resource": {resource}})
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeStatus(resp, http.StatusOK, &tok); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return tok.AccessToken, nil
}

// adminJSON sends one admin request, checks its status and decodes its
// answer into out (nil: not decoded).
func adminJSON(gw, method, path, body string, want int, out any) error {
	req, _ := http.NewRequest(method, gw+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	if err := decodeStatus(resp, want, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// decodeStatus checks resp's status and decodes its body into out (nil:
// only the status).
func decodeStatus(resp *http.Response, want int, out any) error {
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("HTTP %d %s", resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// withAuthorization sets an Authorization header on every request.
type withAuthorization struct {
	next  http.RoundTripper
	value string
}

func (a withAuthorization) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", a.value)
	return a.next.RoundTrip(r)
}
