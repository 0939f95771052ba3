package server

import "testing"

func TestBodyLimit(t *testing.T) {
	opts := Options{MaxBodyBytes: 4 << 20}
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"an MCP request has the MCP limit", "POST", "/mcp/everything", 4 << 20},
		{"a guard upload has its own limit", "POST", "/admin/v1/guards", DefaultMaxGuardUpload},
		{"other admin documents keep the small limit", "POST", "/admin/v1/connectors", maxAdminBody},
		{"guard settings are a small document", "PUT", "/admin/v1/guards/settings", maxAdminBody},
		{"a guard patch is a small document", "PATCH", "/admin/v1/guards/my-guard", maxAdminBody},
		{"only POST uploads", "PUT", "/admin/v1/guards", maxAdminBody},
		{"a non-canonical upload path gets the small limit", "POST", "/admin/v1//guards", maxAdminBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := opts.bodyLimit([]byte(tt.method), []byte(tt.path)); got != tt.want {
				t.Errorf("bodyLimit(%s %s) = %d, want %d", tt.method, tt.path, got, tt.want)
			}
		})
	}
	t.Run("a configured upload limit is used", func(t *testing.T) {
		o := Options{MaxGuardUploadBytes: 8 << 20}
		if got := o.bodyLimit([]byte("POST"), []byte(guardUploadPath)); got != 8<<20 {
			t.Errorf("bodyLimit = %d", got)
		}
	})
}
