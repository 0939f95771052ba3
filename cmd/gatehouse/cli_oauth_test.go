package main

import "testing"

func TestOAuthCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "oauth password reads the password from standard input", args: []string{"oauth", "password", "mia"},
			stdin:     "a long enough password\n",
			exchanges: []exchange{{method: "PUT", path: "/users/mia/password", body: `{"password":"a long enough password"}`, status: 204}},
			wantOut:   []string{"password of mia set"},
		},
		{
			name: "oauth password without input fails before any request", args: []string{"oauth", "password", "mia"},
			wantErr: "no password on standard input",
		},
		{
			name: "oauth password refused by the gateway says why", args: []string{"oauth", "password", "mia"},
			stdin: "short\n",
			exchanges: []exchange{{method: "PUT", path: "/users/mia/password", body: `{"password":"short"}`, status: 422,
				answer: `{"error":{"code":"invalid_field","message":"password refused: at least 12 characters","field":"password"}}`}},
			wantErr: "HTTP 422 invalid_field: password refused: at least 12 characters (field password)",
		},
		{
			name: "oauth password --delete removes it", args: []string{"oauth", "password", "mia", "--delete"},
			exchanges: []exchange{{method: "DELETE", path: "/users/mia/password", status: 204}},
			wantOut:   []string{"password of mia removed"},
		},
		{
			name: "oauth clients create shows a confidential client's secret once",
			args: []string{"oauth", "clients", "create", "--name", "App", "--redirect-uri", "https://app.example.com/cb", "--confidential"},
			exchanges: []exchange{{method: "POST", path: "/oauth/clients", status: 201,
				body:   `{"client_name":"App","redirect_uris":["https://app.example.com/cb"],"confidential":true}`,
				answer: `{"client_id":"gh_x","client_name":"App","redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"client_secret_basic","source":"admin","created_at":"2026-01-01T00:00:00Z","client_secret":"s3cret"}`}},
			wantOut: []string{"gh_x", "s3cret (shown once)"},
		},
		{
			name: "oauth clients list", args: []string{"oauth", "clients", "list"},
			exchanges: []exchange{{method: "GET", path: "/oauth/clients",
				answer: `{"items":[{"client_id":"dcr_a","client_name":"Claude","redirect_uris":["https://claude.ai/cb"],"token_endpoint_auth_method":"none","source":"dcr","created_at":"2026-01-01T00:00:00Z"}]}`}},
			wantOut: []string{"dcr_a", "Claude", "dcr", "https://claude.ai/cb"},
		},
		{
			name: "oauth clients delete", args: []string{"oauth", "clients", "delete", "dcr_a"},
			exchanges: []exchange{{method: "DELETE", path: "/oauth/clients/dcr_a", status: 204}},
			wantOut:   []string{"client dcr_a deleted"},
		},
	})
}
