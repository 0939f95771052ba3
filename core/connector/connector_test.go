package connector

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func httpConnector() *Connector {
	return &Connector{
		Name:      "GitHub",
		Slug:      "github",
		Transport: TransportStreamableHTTP,
		URL:       "https://api.example.com/mcp",
		Auth:      Auth{Kind: AuthAuto},
		Status:    StatusActive,
		Owner:     "alice",
	}
}

func stdioConnector() *Connector {
	return &Connector{
		Name:      "Files",
		Slug:      "files",
		Transport: TransportSTDIO,
		Command:   "npx",
		Args:      []string{"-y", "@modelcontextprotocol/server-filesystem", "/tmp"},
		Env:       map[string]string{"API_KEY": "secret"},
		Auth:      Auth{Kind: AuthNone},
		Status:    StatusDraft,
		Owner:     "alice",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		base      func() *Connector
		edit      func(c *Connector)
		wantField string // "" means valid
	}{
		{"a streamable HTTP connector is valid", httpConnector, func(*Connector) {}, ""},
		{"an SSE connector is valid", httpConnector, func(c *Connector) { c.Transport = TransportSSE }, ""},
		{"a stdio connector with env is valid", stdioConnector, func(*Connector) {}, ""},
		{"a bearer connector with a token is valid", httpConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthBearer, Token: "t0k"} }, ""},
		{"headers with placeholders are valid", httpConnector, func(c *Connector) {
			c.Headers = map[string]string{"Authorization": "Bearer {API_TOKEN}", "X-Org": "{org}-{_x1}"}
		}, ""},
		{"identity forwarding over HTTP is valid", httpConnector, func(c *Connector) { c.Advanced.Identity.Mode = "jwt" }, ""},
		{"a 200-character name is valid", httpConnector, func(c *Connector) { c.Name = strings.Repeat("n", 200) }, ""},
		{"a 64-character slug is valid", httpConnector, func(c *Connector) { c.Slug = strings.Repeat("a", 64) }, ""},

		{"an oauth2 connector with no settings is valid", httpConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthOAuth2} }, ""},
		{"a pre-registered oauth2 client is valid", httpConnector, func(c *Connector) {
			c.Auth = Auth{Kind: AuthOAuth2, OAuth2: &OAuth2{Registration: RegistrationPreregistered, ClientID: "gw", ClientSecret: "s", Scopes: []string{"read", "offline_access"}}}
		}, ""},
		{"oauth2 settings on an auto connector are valid", httpConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthAuto, OAuth2: &OAuth2{Registration: RegistrationDynamic}} }, ""},
		{"oauth2 settings on a bearer connector are refused", httpConnector, func(c *Connector) {
			c.Auth = Auth{Kind: AuthBearer, Token: "t", OAuth2: &OAuth2{}}
		}, "auth.oauth2"},
		{"oauth2 settings on kind none are refused", httpConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthNone, OAuth2: &OAuth2{}} }, "auth.oauth2"},
		{"an unknown registration is refused", httpConnector, func(c *Connector) {
			c.Auth = Auth{Kind: AuthOAuth2, OAuth2: &OAuth2{Registration: "magic"}}
		}, "auth.oauth2.registration"},
		{"preregistered without a client id is refused", httpConnector, func(c *Connector) {
			c.Auth = Auth{Kind: AuthOAuth2, OAuth2: &OAuth2{Registration: RegistrationPreregistered}}
		}, "auth.oauth2.client_id"},
		{"a client secret without a client id is refused", httpConnector, func(c *Connector) {
			c.Auth = Auth{Kind: AuthOAuth2, OAuth2: &OAuth2{ClientSecret: "s"}}
		}, "auth.oauth2.client_secret"},
		{"a client id with a newline is refused", httpConnector, func(c *Connector) {
			c.Auth = Auth{Kind: AuthOAuth2, OAuth2: &OAuth2{ClientID: "a\nb"}}
		}, "auth.oauth2.client_id"},
		{"a scope with a space is refused", httpConnector, func(c *Connector) {
			c.Auth = Auth{Kind: AuthOAuth2, OAuth2: &OAuth2{Scopes: []string{"a b"}}}
		}, "auth.oauth2.scopes"},
		{"an empty scope is refused", httpConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthOAuth2, OAuth2: &OAuth2{Scopes: []string{""}}} }, "auth.oauth2.scopes"},
		{"a missing name is refused", httpConnector, func(c *Connector) { c.Name = "" }, "name"},
		{"a name over 200 characters is refused", httpConnector, func(c *Connector) { c.Name = strings.Repeat("n", 201) }, "name"},
		{"an empty slug is refused", httpConnector, func(c *Connector) { c.Slug = "" }, "slug"},
		{"an uppercase slug is refused", httpConnector, func(c *Connector) { c.Slug = "GitHub" }, "slug"},
		{"a slug starting with a dash is refused", httpConnector, func(c *Connector) { c.Slug = "-gh" }, "slug"},
		{"a slug ending with a dash is refused", httpConnector, func(c *Connector) { c.Slug = "gh-" }, "slug"},
		{"a slug with underscores is refused", httpConnector, func(c *Connector) { c.Slug = "git__hub" }, "slug"},
		{"a 65-character slug is refused", httpConnector, func(c *Connector) { c.Slug = strings.Repeat("a", 65) }, "slug"},
		{"an unknown status is refused", httpConnector, func(c *Connector) { c.Status = "paused" }, "status"},
		{"a malformed transport name is refused", httpConnector, func(c *Connector) { c.Transport = "Web Socket" }, "transport"},
		{"a plugin transport name with a ws URL is well-formed", httpConnector, func(c *Connector) { c.Transport, c.URL = "websocket", "ws://example.com/mcp" }, ""},
		{"a plugin transport without a URL is refused", httpConnector, func(c *Connector) { c.Transport, c.URL = "websocket", "" }, "url"},
		{"a plugin transport URL with credentials is refused", httpConnector, func(c *Connector) { c.Transport, c.URL = "websocket", "ws://u:p@example.com/mcp" }, "url"},
		{"a plugin transport URL without a scheme is refused", httpConnector, func(c *Connector) { c.Transport, c.URL = "websocket", "example.com/mcp" }, "url"},
		{"a plugin transport with a command is refused", httpConnector, func(c *Connector) { c.Transport, c.URL, c.Command = "websocket", "ws://example.com/mcp", "sh" }, "command"},
		{"an HTTP connector without a URL is refused", httpConnector, func(c *Connector) { c.URL = "" }, "url"},
		{"a URL that is not http or https is refused", httpConnector, func(c *Connector) { c.URL = "ftp://example.com/mcp" }, "url"},
		{"a URL without a host is refused", httpConnector, func(c *Connector) { c.URL = "https:///mcp" }, "url"},
		{"a URL with credentials is refused", httpConnector, func(c *Connector) { c.URL = "https://user:pw@example.com/mcp" }, "url"},
		{"a URL with a fragment is refused", httpConnector, func(c *Connector) { c.URL = "https://example.com/mcp#x" }, "url"},
		{"a URL that does not parse is refused", httpConnector, func(c *Connector) { c.URL = "https://exa mple.com/%zz" }, "url"},
		{"an HTTP connector with a command is refused", httpConnector, func(c *Connector) { c.Command = "npx" }, "command"},
		{"an HTTP connector with args is refused", httpConnector, func(c *Connector) { c.Args = []string{"x"} }, "command"},
		{"an HTTP connector with env is refused", httpConnector, func(c *Connector) { c.Env = map[string]string{"A": "b"} }, "command"},
		{"a stdio connector without a command is refused", stdioConnector, func(c *Connector) { c.Command = "" }, "command"},
		{"a stdio connector with a URL is refused", stdioConnector, func(c *Connector) { c.URL = "https://example.com" }, "url"},
		{"a stdio connector with headers is refused", stdioConnector, func(c *Connector) { c.Headers = map[string]string{"X-A": "b"} }, "headers"},
		{"an invalid env name is refused", stdioConnector, func(c *Connector) { c.Env = map[string]string{"1BAD": "x"} }, "env"},
		{"an env name with a dash is refused", stdioConnector, func(c *Connector) { c.Env = map[string]string{"API-KEY": "x"} }, "env"},
		{"an unknown auth kind is refused", httpConnector, func(c *Connector) { c.Auth.Kind = "basic" }, "auth.kind"},
		{"a token with auth kind auto is refused", httpConnector, func(c *Connector) { c.Auth.Token = "t" }, "auth.token"},
		{"a token with auth kind none is refused", httpConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthNone, Token: "t"} }, "auth.token"},
		{"an active bearer connector without a token is refused", httpConnector, func(c *Connector) {
			c.Auth, c.Status = Auth{Kind: AuthBearer}, StatusActive
		}, "auth.token"},
		{"a stdio connector with upstream auth is refused", stdioConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthBearer, Token: "t"} }, "auth.kind"},
		{"a stdio connector with auth kind auto is refused", stdioConnector, func(c *Connector) { c.Auth = Auth{Kind: AuthAuto} }, "auth.kind"},
		{"an invalid header name is refused", httpConnector, func(c *Connector) { c.Headers = map[string]string{"Bad Header": "x"} }, "headers"},
		{"a header value with a newline is refused", httpConnector, func(c *Connector) { c.Headers = map[string]string{"X-A": "a\r\nX-Injected: 1"} }, "headers.X-A"},
		{"a header value with a NUL is refused", httpConnector, func(c *Connector) { c.Headers = map[string]string{"X-A": "a\x00"} }, "headers.X-A"},
		{"an unclosed placeholder is refused", httpConnector, func(c *Connector) { c.Headers = map[string]string{"X-A": "Bearer {TOKEN"} }, "headers.X-A"},
		{"a placeholder with a dash is refused", httpConnector, func(c *Connector) { c.Headers = map[string]string{"X-A": "{API-TOKEN}"} }, "headers.X-A"},
		{"a placeholder starting with a digit is refused", httpConnector, func(c *Connector) { c.Headers = map[string]string{"X-A": "{1TOKEN}"} }, "headers.X-A"},
		{"an unknown identity mode is refused", httpConnector, func(c *Connector) { c.Advanced.Identity.Mode = "cookie" }, "advanced.identity_forward.mode"},
		{"identity forwarding over stdio is refused", stdioConnector, func(c *Connector) { c.Advanced.Identity.Mode = "headers" }, "advanced.identity_forward.mode"},
		{"a negative offload threshold is refused", httpConnector, func(c *Connector) { c.Advanced.OffloadThresholdBytes = -1 }, "advanced.offload_threshold_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base()
			tt.edit(c)
			err := c.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted the connector, want an error on %q", tt.wantField)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if fe.Field != tt.wantField {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.wantField, err)
			}
			if fe.Message == "" || !strings.HasPrefix(err.Error(), tt.wantField+": ") {
				t.Errorf("Error() = %q, want %q followed by a message", err.Error(), tt.wantField+": ")
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   Connector
		want Connector
	}{
		{"an empty HTTP connector gets its defaults",
			Connector{Name: "  My Server  ", URL: "https://x"},
			Connector{Name: "My Server", Slug: "my-server", URL: "https://x", Transport: TransportStreamableHTTP, Auth: Auth{Kind: AuthAuto}, Status: StatusDraft}},
		{"a stdio connector defaults to no upstream auth",
			Connector{Name: "Files", Transport: TransportSTDIO},
			Connector{Name: "Files", Slug: "files", Transport: TransportSTDIO, Auth: Auth{Kind: AuthNone}, Status: StatusDraft}},
		{"set fields are kept",
			Connector{Name: "Files", Slug: "fs", Transport: TransportSSE, Auth: Auth{Kind: AuthBearer}, Status: StatusActive},
			Connector{Name: "Files", Slug: "fs", Transport: TransportSSE, Auth: Auth{Kind: AuthBearer}, Status: StatusActive}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.in
			c.Normalize()
			if c.Name != tt.want.Name || c.Slug != tt.want.Slug || c.Transport != tt.want.Transport || c.Auth != tt.want.Auth || c.Status != tt.want.Status {
				t.Errorf("Normalize = %+v, want %+v", c, tt.want)
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"words become lowercase and dashed", "GitHub Issues", "github-issues"},
		{"runs of punctuation become one dash", "  Hello,  World!! ", "hello-world"},
		{"digits are kept", "Server 2 Go", "server-2-go"},
		{"leading punctuation is dropped", "--__Name", "name"},
		{"non-ASCII letters separate words", "Café Ünïcode", "caf-n-code"},
		{"a name without letters or digits gives an empty slug", "!!! ???", ""},
		{"an empty name gives an empty slug", "", ""},
		{"a long name is cut to 64 characters", strings.Repeat("a", 100), strings.Repeat("a", 64)},
		{"a cut that ends on a dash drops the dash", strings.Repeat("a", 63) + " bcd", strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Slugify(tt.in)
			if got != tt.want {
				t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got != "" && !slugPattern.MatchString(got) {
				t.Errorf("Slugify(%q) = %q, which Validate would refuse", tt.in, got)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    []string
	}{
		{"no headers have no placeholders", nil, nil},
		{"static headers have no placeholders", map[string]string{"X-A": "static"}, nil},
		{"placeholders are listed sorted and once each", map[string]string{
			"Authorization": "Bearer {TOKEN}",
			"X-Org":         "{ORG}-{TOKEN}",
			"X-Team":        "{A_TEAM}",
		}, []string{"A_TEAM", "ORG", "TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Connector{Headers: tt.headers}
			got := c.Placeholders()
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Placeholders = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExpandHeaders(t *testing.T) {
	headers := map[string]string{
		"Authorization": "Bearer {TOKEN}",
		"X-Org":         "{ORG}/{TOKEN}",
		"X-Static":      "static",
	}
	tests := []struct {
		name        string
		values      map[string]string
		want        map[string]string
		wantMissing string // the list the error names
	}{
		{"every placeholder is replaced", map[string]string{"TOKEN": "t1", "ORG": "acme", "UNUSED": "x"},
			map[string]string{"Authorization": "Bearer t1", "X-Org": "acme/t1", "X-Static": "static"}, ""},
		{"values are not expanded again", map[string]string{"TOKEN": "{ORG}", "ORG": "acme"},
			map[string]string{"Authorization": "Bearer {ORG}", "X-Org": "acme/{ORG}", "X-Static": "static"}, ""},
		{"every missing placeholder is named once, sorted", nil, nil, "{ORG}, {TOKEN}"},
		{"one missing placeholder is named", map[string]string{"TOKEN": "t1"}, nil, "{ORG}"},
		{"an empty value counts as missing", map[string]string{"TOKEN": "", "ORG": "acme"}, nil, "{TOKEN}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Connector{Slug: "gh", Headers: headers}
			got, err := c.ExpandHeaders(tt.values)
			if tt.wantMissing != "" {
				if !errors.Is(err, ErrMissingPlaceholder) {
					t.Fatalf("ExpandHeaders = %v, want ErrMissingPlaceholder", err)
				}
				if !strings.Contains(err.Error(), "needs a value for "+tt.wantMissing+";") {
					t.Errorf("error %q does not name exactly %s", err, tt.wantMissing)
				}
				if !strings.Contains(err.Error(), `"gh"`) {
					t.Errorf("error %q does not name the connector", err)
				}
				if got != nil {
					t.Errorf("ExpandHeaders returned headers %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ExpandHeaders = %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ExpandHeaders = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("header %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
	t.Run("the connector's headers are left untouched", func(t *testing.T) {
		c := &Connector{Headers: map[string]string{"A": "{X}"}}
		c.ExpandHeaders(map[string]string{"X": "1"})
		if c.Headers["A"] != "{X}" {
			t.Errorf("header became %q", c.Headers["A"])
		}
	})
}

func TestVisibleTo(t *testing.T) {
	tests := []struct {
		name      string
		status    Status
		sensitive []string // nil: not sensitive
		user      string
		roles     []string
		want      bool
	}{
		{"a draft is visible to its owner", StatusDraft, nil, "alice", nil, true},
		{"a draft is hidden from others", StatusDraft, nil, "bob", []string{"admin"}, false},
		{"a draft is hidden even from the owner role", StatusDraft, nil, "carol", []string{"owner"}, false},
		{"a draft is hidden from the anonymous user", StatusDraft, nil, "", nil, false},
		{"an active connector is visible to everyone", StatusActive, nil, "bob", nil, true},
		{"a disabled connector is still listed", StatusDisabled, nil, "bob", nil, true},
		{"a sensitive connector is visible to a selected role", StatusActive, []string{"finance"}, "bob", []string{"member", "finance"}, true},
		{"a sensitive connector is hidden from other roles", StatusActive, []string{"finance"}, "bob", []string{"member", "admin"}, false},
		{"a sensitive connector is visible to the owner role", StatusActive, []string{"finance"}, "carol", []string{"owner"}, true},
		{"a sensitive connector is visible to its creator", StatusActive, []string{}, "alice", nil, true},
		{"a sensitive draft stays hidden from selected roles", StatusDraft, []string{"finance"}, "bob", []string{"finance"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Connector{Status: tt.status, Owner: "alice"}
			if tt.sensitive != nil {
				c.Advanced.Sensitive, c.Advanced.SensitiveRoles = true, tt.sensitive
			}
			if got := c.VisibleTo(tt.user, tt.roles); got != tt.want {
				t.Errorf("VisibleTo(%q, %v) = %v, want %v", tt.user, tt.roles, got, tt.want)
			}
		})
	}
}

func TestOffloadEnabled(t *testing.T) {
	off, on := false, true
	tests := []struct {
		name string
		set  *bool
		want bool
	}{
		{"offload defaults to on", nil, true},
		{"offload can be turned off", &off, false},
		{"offload can be turned on explicitly", &on, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Advanced{OffloadOutput: tt.set}).OffloadEnabled(); got != tt.want {
				t.Errorf("OffloadEnabled = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	a, b := httpConnector(), stdioConnector()
	r := NewRegistry([]*Connector{a, b})
	t.Run("connectors given at creation are found by slug", func(t *testing.T) {
		for _, want := range []*Connector{a, b} {
			if got, ok := r.Lookup(want.Slug); !ok || got != want {
				t.Errorf("Lookup(%q) = %v, %v", want.Slug, got, ok)
			}
		}
	})
	t.Run("an unknown slug is not found", func(t *testing.T) {
		if c, ok := r.Lookup("nope"); ok || c != nil {
			t.Errorf("Lookup(nope) = %v, %v", c, ok)
		}
	})
	t.Run("Put replaces a connector with the same slug", func(t *testing.T) {
		a2 := httpConnector()
		a2.Name = "GitHub v2"
		r.Put(a2)
		if got, _ := r.Lookup("github"); got != a2 {
			t.Errorf("Lookup = %v, want the replacement", got)
		}
	})
	t.Run("Remove deletes a connector", func(t *testing.T) {
		r.Remove("files")
		if _, ok := r.Lookup("files"); ok {
			t.Error("removed connector is still found")
		}
		r.Remove("files") // removing twice is harmless
	})
	t.Run("concurrent readers and writers are safe", func(t *testing.T) {
		r := NewRegistry(nil)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				c := httpConnector()
				c.Slug = string(rune('a' + i))
				for range 100 {
					r.Put(c)
					r.Lookup(c.Slug)
					r.Remove(c.Slug)
				}
			})
		}
		wg.Wait()
	})
}

func TestBearerTokenMayWaitWhileNotActive(t *testing.T) {
	for _, st := range []Status{StatusDisabled, StatusDraft} {
		c := &Connector{Name: "Stripe", URL: "https://mcp.stripe.com", Auth: Auth{Kind: AuthBearer}, Status: st}
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Errorf("%s bearer connector without a token: %v", st, err)
		}
	}
}
