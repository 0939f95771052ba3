package mcp

import (
	"encoding/json"
	"testing"
)

func mustParse(t *testing.T, s string) *Message {
	t.Helper()
	m, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return m
}

func TestProgressToken(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string // raw JSON; "" for none
	}{
		{"a string token is returned raw", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","_meta":{"progressToken":"abc"}}}`, `"abc"`},
		{"an integer token is returned raw", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":42}}}`, `42`},
		{"no _meta means no token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`, ``},
		{"_meta without a token means no token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"other":1}}}`, ``},
		{"no params means no token", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, ``},
		{"a _meta that is not an object means no token", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":"x"}}`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(mustParse(t, tt.msg).ProgressToken()); got != tt.want {
				t.Errorf("ProgressToken = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotificationProgressToken(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string
	}{
		{"a progress notification yields its token", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"abc","progress":1}}`, `"abc"`},
		{"an integer token is returned raw", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"progress":1}}`, `7`},
		{"another notification yields none", `{"jsonrpc":"2.0","method":"notifications/message","params":{"progressToken":"abc"}}`, ``},
		{"a progress notification without params yields none", `{"jsonrpc":"2.0","method":"notifications/progress"}`, ``},
		{"a request's _meta token is not a notification token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"abc"}}}`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(mustParse(t, tt.msg).NotificationProgressToken()); got != tt.want {
				t.Errorf("NotificationProgressToken = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTargetName(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string
	}{
		{"a tool call names its tool", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`, "echo"},
		{"a prompt get names its prompt", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"greet"}}`, "greet"},
		{"a resource read names its uri", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a.txt"}}`, "file:///a.txt"},
		{"a list names nothing", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c"}}`, ""},
		{"a request without params names nothing", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, ""},
		{"a name that is not a string names nothing", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.msg).TargetName(); got != tt.want {
				t.Errorf("TargetName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNegotiatedVersion(t *testing.T) {
	tests := []struct {
		name   string
		result string
		want   string
	}{
		{"an initialize result yields its version", `{"protocolVersion":"2025-06-18","capabilities":{}}`, Version20250618},
		{"a result without a version yields none", `{"capabilities":{}}`, ""},
		{"a result that is not an object yields none", `"2025-06-18"`, ""},
		{"an empty result yields none", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NegotiatedVersion(json.RawMessage(tt.result)); got != tt.want {
				t.Errorf("NegotiatedVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		version      string
		legacy, know bool
	}{
		{Version20241105, true, true},
		{Version20250326, true, true},
		{Version20250618, true, true},
		{Version20251125, true, true},
		{Version20260728, false, true},
		{"2099-01-01", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		t.Run("version "+tt.version+" is classified", func(t *testing.T) {
			if got := IsLegacyVersion(tt.version); got != tt.legacy {
				t.Errorf("IsLegacyVersion = %v, want %v", got, tt.legacy)
			}
			if got := IsKnownVersion(tt.version); got != tt.know {
				t.Errorf("IsKnownVersion = %v, want %v", got, tt.know)
			}
		})
	}
}
