package main

import (
	"net/url"
	"testing"
)

const (
	allowedRule = `{"id":"r1","list":"allowed","uri":"https://*.example.com/cb","created_by":"ada","created_at":"2026-12-01T10:00:00Z"}`
	blockedRule = `{"id":"r2","list":"blocked","uri":"https://evil.com/cb","note":"phishing","created_by":"owner","created_at":"2026-12-01T11:00:00Z","approval":"p9"}`
	pendingURI  = `{"id":"p1","uri":"https://partner.org/cb","raw":"HTTPS://partner.org/cb","askers":[{"client_id":"https://partner.org/c.json","client_name":"Partner","user":"mia","source":"cimd","at":"2026-12-01T12:00:00Z"},{"client_id":"dcr-2","at":"2026-12-01T12:01:00Z"}],"count":3,"first_at":"2026-12-01T12:00:00Z","last_at":"2026-12-01T12:05:00Z"}`
)

func TestRedirectsCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name:      "list prints a row per rule",
			args:      []string{"redirects", "list"},
			exchanges: []exchange{{method: "GET", path: "/redirects", answer: `{"rules":[` + allowedRule + `,` + blockedRule + `]}`}},
			wantOut: []string{
				"ID  LIST     URI                       BY     CREATED               NOTE",
				"r1  allowed  https://*.example.com/cb  ada    2026-12-01T10:00:00Z",
				"r2  blocked  https://evil.com/cb       owner  2026-12-01T11:00:00Z  phishing",
			},
		},
		{
			name:      "list sends the list filter",
			args:      []string{"redirects", "list", "--list", "blocked", "--json"},
			exchanges: []exchange{{method: "GET", path: "/redirects", query: url.Values{"list": {"blocked"}}, answer: `{"rules":[` + blockedRule + `]}`}},
			wantJSON:  `{"rules":[` + blockedRule + `]}`,
		},
		{
			name:    "list with a bad filter fails before asking",
			args:    []string{"redirects", "list", "--list", "grey"},
			wantErr: `--list "grey" is not one of: allowed, blocked`,
		},
		{
			name: "allow sends the URI to the allowed list",
			args: []string{"redirects", "allow", "https://*.example.com/cb"},
			exchanges: []exchange{{method: "POST", path: "/redirects", body: `{"list":"allowed","uri":"https://*.example.com/cb"}`,
				answer: `{"rule":` + allowedRule + `,"resolved":["p3"]}`}},
			wantOut: []string{"list:       allowed\n", "uri:        https://*.example.com/cb\n", "resolved:   p3\n"},
		},
		{
			name: "block sends the note",
			args: []string{"redirects", "block", "https://evil.com/cb", "--note", "phishing"},
			exchanges: []exchange{{method: "POST", path: "/redirects", body: `{"list":"blocked","note":"phishing","uri":"https://evil.com/cb"}`,
				answer: `{"rule":` + blockedRule + `,"resolved":[]}`}},
			wantOut: []string{"list:       blocked\n", "note:       phishing\n"},
		},
		{
			name: "allow of an unsafe URI fails with the API's reason",
			args: []string{"redirects", "allow", "http://evil.com/cb"},
			exchanges: []exchange{{method: "POST", path: "/redirects", body: `{"list":"allowed","uri":"http://evil.com/cb"}`, status: 422,
				answer: `{"error":{"code":"invalid_field","message":"invalid redirect rule: this URI is always blocked: http is allowed only for loopback","field":"uri"}}`}},
			wantErr: "HTTP 422 invalid_field: invalid redirect rule: this URI is always blocked: http is allowed only for loopback (field uri)",
		},
		{
			name:      "remove by id",
			args:      []string{"redirects", "remove", "r2"},
			exchanges: []exchange{{method: "DELETE", path: "/redirects/r2", answer: blockedRule}},
			wantOut:   []string{"removed https://evil.com/cb from the blocked list (r2)"},
		},
		{
			name: "remove by URI finds the rule by its normal form",
			args: []string{"redirects", "remove", "HTTPS://EVIL.COM:443/cb"},
			exchanges: []exchange{
				{method: "GET", path: "/redirects", answer: `{"rules":[` + allowedRule + `,` + blockedRule + `]}`},
				{method: "DELETE", path: "/redirects/r2", answer: blockedRule},
			},
			wantOut: []string{"removed https://evil.com/cb from the blocked list (r2)"},
		},
		{
			name:      "remove of a URI on no list fails naming it",
			args:      []string{"redirects", "remove", "https://other.org/cb"},
			exchanges: []exchange{{method: "GET", path: "/redirects", answer: `{"rules":[` + allowedRule + `]}`}},
			wantErr:   "no redirect rule is https://other.org/cb (see gatehouse redirects list)",
		},
		{
			name:    "remove of a URI no rule can be fails before asking",
			args:    []string{"redirects", "remove", "javascript:alert(1)"},
			wantErr: "no rule can be javascript:alert(1): invalid redirect rule: this URI is always blocked: the javascript: scheme can never receive an authorization code",
		},
		{
			name: "check prints the decision",
			args: []string{"redirects", "check", "https://good.com@evil.com/"},
			exchanges: []exchange{{method: "POST", path: "/redirects/check", body: `{"uri":"https://good.com@evil.com/"}`,
				answer: `{"outcome":"blocked","class":"userinfo","reason":"This redirect URI is blocked for your organization: it has userinfo."}`}},
			wantOut: []string{"outcome: blocked\n", "class:   userinfo\n"},
		},
		{
			name:      "pending lists who asked",
			args:      []string{"redirects", "pending"},
			exchanges: []exchange{{method: "GET", path: "/redirects/pending", answer: `{"pending":[` + pendingURI + `]}`}},
			wantOut: []string{
				"ID  URI                     ASKED BY          COUNT  FIRST",
				"p1  https://partner.org/cb  Partner (mia) +1  3      2026-12-01T12:00:00Z",
			},
		},
		{
			name: "approve sends the note and prints the rule",
			args: []string{"redirects", "approve", "p1", "--note", "partner"},
			exchanges: []exchange{{method: "POST", path: "/redirects/pending/p1/approve", body: `{"note":"partner"}`,
				answer: `{"id":"r3","list":"allowed","uri":"https://partner.org/cb","note":"partner","created_by":"ada","created_at":"2026-12-01T13:00:00Z","approval":"p1"}`}},
			wantOut: []string{"list:       allowed\n", "approval:   p1\n"},
		},
		{
			name: "deny as a member fails with the API's error",
			args: []string{"redirects", "deny", "p1"},
			exchanges: []exchange{{method: "POST", path: "/redirects/pending/p1/deny", body: `{}`, status: 403,
				answer: `{"error":{"code":"forbidden","message":"your roles (member) do not allow approve on redirects"}}`}},
			wantErr: "HTTP 403 forbidden: your roles (member) do not allow approve on redirects",
		},
		{
			name:    "approve needs an id",
			args:    []string{"redirects", "approve"},
			wantErr: "accepts 1 arg(s), received 0",
		},
	})
}
