package main

import "testing"

// Tests of roles create and delete; the other roles commands are tested in
// cli_approvals_test.go, the harness is in cli_test.go.

func TestRolesCreateAndDeleteCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "create sends the name alone",
			args: []string{"roles", "create", "deployer"},
			exchanges: []exchange{{method: "POST", path: "/roles", status: 201, body: `{"name":"deployer"}`,
				answer: `{"role":"deployer","inherits":[]}`}},
			wantExactOut: "role:     deployer\ninherits: none\n",
		},
		{
			name: "create sends what the role inherits",
			args: []string{"roles", "create", "releaser", "--inherit", "deployer", "--inherit", "auditor"},
			exchanges: []exchange{{method: "POST", path: "/roles", status: 201, body: `{"name":"releaser","inherits":["deployer","auditor"]}`,
				answer: `{"role":"releaser","inherits":["auditor","deployer"]}`}},
			wantOut: []string{"role:     releaser\n", "inherits: auditor, deployer\n"},
		},
		{
			name: "create --json prints the answer",
			args: []string{"roles", "create", "releaser", "--inherit", "deployer,auditor", "--json"},
			exchanges: []exchange{{method: "POST", path: "/roles", status: 201, body: `{"name":"releaser","inherits":["deployer","auditor"]}`,
				answer: `{"role":"releaser","inherits":["auditor","deployer"]}`}},
			wantJSON: `{"role":"releaser","inherits":["auditor","deployer"]}`,
		},
		{
			name: "create of an existing role fails with the API's error",
			args: []string{"roles", "create", "admin"},
			exchanges: []exchange{{method: "POST", path: "/roles", status: 409, body: `{"name":"admin"}`,
				answer: `{"error":{"code":"conflict","message":"a role named \"admin\" already exists","field":"name"}}`}},
			wantErr: `HTTP 409 conflict: a role named "admin" already exists (field name)`,
		},
		{
			name: "create with a bad name fails with the API's error",
			args: []string{"roles", "create", "role:deployer"},
			exchanges: []exchange{{method: "POST", path: "/roles", status: 422, body: `{"name":"role:deployer"}`,
				answer: `{"error":{"code":"invalid_field","message":"a role name is 1-64 letters","field":"name"}}`}},
			wantErr: `HTTP 422 invalid_field: a role name is 1-64 letters (field name)`,
		},
		{
			name:    "create needs a name",
			args:    []string{"roles", "create"},
			wantErr: "accepts 1 arg(s), received 0",
		},
		{
			name:         "delete",
			args:         []string{"roles", "delete", "deployer"},
			exchanges:    []exchange{{method: "DELETE", path: "/roles/deployer", status: 204}},
			wantExactOut: "role deployer deleted\n",
		},
		{
			name: "delete of a built-in role fails with the API's error",
			args: []string{"roles", "delete", "member"},
			exchanges: []exchange{{method: "DELETE", path: "/roles/member", status: 409,
				answer: `{"error":{"code":"builtin","message":"built-in roles ship with Gatehouse and cannot be deleted"}}`}},
			wantErr: "HTTP 409 builtin: built-in roles ship with Gatehouse and cannot be deleted",
		},
		{
			name: "delete of an unknown role fails with the API's error",
			args: []string{"roles", "delete", "superuser"},
			exchanges: []exchange{{method: "DELETE", path: "/roles/superuser", status: 404,
				answer: `{"error":{"code":"not_found","message":"no role \"superuser\""}}`}},
			wantErr: `HTTP 404 not_found: no role "superuser"`,
		},
	})
	t.Run("delete --json prints nothing", func(t *testing.T) {
		out, _, err, _ := runCLI(t, cliCase{args: []string{"roles", "delete", "deployer", "--json"},
			exchanges: []exchange{{method: "DELETE", path: "/roles/deployer", status: 204}}})
		if err != nil || out != "" {
			t.Errorf("stdout %q, err %v", out, err)
		}
	})
}
