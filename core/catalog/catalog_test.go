package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

func TestBuiltinCatalog(t *testing.T) {
	list, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 20 {
		t.Fatalf("%d templates, want at least 20", len(list))
	}
	transports := map[connector.Transport]int{}
	hosting := map[string]int{}
	for _, tpl := range list {
		transports[tpl.Transport]++
		hosting[tpl.Hosting]++
		if !tpl.Builtin {
			t.Errorf("%s not marked builtin", tpl.ID)
		}
		if len(tpl.Tools) == 0 {
			t.Errorf("%s lists no known tools", tpl.ID)
		}
		if !strings.HasPrefix(tpl.Homepage, "https://") {
			t.Errorf("%s homepage %q", tpl.ID, tpl.Homepage)
		}
	}
	for _, tr := range []connector.Transport{connector.TransportSTDIO, connector.TransportStreamableHTTP, connector.TransportSSE} {
		if transports[tr] == 0 {
			t.Errorf("no %s template", tr)
		}
	}
	if hosting["hosted"] == 0 || hosting["local"] == 0 {
		t.Errorf("hosting mix %v", hosting)
	}
	i := slices.IndexFunc(list, func(tpl *Template) bool { return tpl.ID == "everything" })
	if i < 0 || list[i].Command != "npx" || !slices.Contains(list[i].Args, "@modelcontextprotocol/server-everything") {
		t.Errorf("the reference server template is missing or wrong")
	}
}

const validYAML = `
id: widgets
name: Widgets
version: 1.2.0
description: Widget inventory.
publisher: Acme
homepage: https://acme.example.com/mcp
category: data
hosting: local
transport: stdio
command: widgets-mcp
args: ["--root", "{ROOT}"]
auth: {kind: none}
env:
  - {name: ROOT, description: Data directory, required: true}
  - {name: WIDGET_KEY, description: API key, required: true, secret: true}
  - {name: REGION, description: Region, default: eu}
tools:
  - {name: list_widgets, description: List widgets}
`

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, edit, want string
	}{
		{"an unknown key", "colour: red\n", "colour"},
		{"a bad id", "id: Widgets!\n", "id"},
		{"a bad version", "version: one\n", "version"},
		{"an unknown category", "category: toys\n", "category"},
		{"an unknown hosting", "hosting: cloud\n", "hosting"},
		{"an arg naming no env entry", `args: ["{NOPE}"]` + "\n", "args[0]"},
		{"stdio with upstream auth", "auth: {kind: bearer}\n", "auth.kind"},
		{"an unknown transport", "transport: pigeon\n", "transport"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Later keys win in our edit: replace the line for that key.
			key := strings.SplitN(tc.edit, ":", 2)[0]
			var lines []string
			for _, l := range strings.Split(validYAML, "\n") {
				if !strings.HasPrefix(l, key+":") {
					lines = append(lines, l)
				}
			}
			_, err := Parse([]byte(strings.Join(lines, "\n") + tc.edit))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte(validYAML)); err != nil {
		t.Fatalf("the valid template: %v", err)
	}
}

func TestConnectorFromTemplate(t *testing.T) {
	tpl, err := Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("missing required values make a disabled connector", func(t *testing.T) {
		c, err := tpl.Connector(Instance{Owner: "ada", Values: map[string]string{"ROOT": "/srv"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != connector.StatusDisabled || c.Slug != "widgets" || c.Template != "widgets" || c.Hosting != "local" {
			t.Errorf("connector %+v", c)
		}
		if got := tpl.Missing(Instance{Values: map[string]string{"ROOT": "/srv"}}); !slices.Equal(got, []string{"WIDGET_KEY"}) {
			t.Errorf("missing %v", got)
		}
	})
	t.Run("all values make an active connector with args and defaults filled", func(t *testing.T) {
		c, err := tpl.Connector(Instance{Slug: "wid-eu", Owner: "ada", Values: map[string]string{"ROOT": "/srv", "WIDGET_KEY": "k"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != connector.StatusActive || !slices.Equal(c.Args, []string{"--root", "/srv"}) || c.Env["REGION"] != "eu" || c.Env["WIDGET_KEY"] != "k" {
			t.Errorf("connector %+v", c)
		}
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	})
	t.Run("an unknown value is named", func(t *testing.T) {
		_, err := tpl.Connector(Instance{Values: map[string]string{"TYPO": "x"}})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "values.TYPO" {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a bearer template without its token is disabled; header placeholders are left to users", func(t *testing.T) {
		list, _ := Builtin()
		for _, tpl := range list {
			if tpl.Auth.Kind != connector.AuthBearer {
				continue
			}
			c, err := tpl.Connector(Instance{Owner: "ada"})
			if err != nil || c.Status != connector.StatusDisabled {
				t.Errorf("%s: %v %v", tpl.ID, c.Status, err)
			}
		}
	})
}

func TestFilter(t *testing.T) {
	list, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	count := func(f Filter) int {
		n := 0
		for _, tpl := range list {
			if f.Match(tpl) {
				n++
			}
		}
		return n
	}
	all, hosted, local := count(Filter{Hosting: "all"}), count(Filter{Hosting: "hosted"}), count(Filter{Hosting: "local"})
	if all != len(list) || hosted+local != all || hosted == 0 || local == 0 {
		t.Errorf("all %d hosted %d local %d", all, hosted, local)
	}
	if n := count(Filter{Query: "GITHUB"}); n == 0 {
		t.Error("case-insensitive search found no GitHub")
	}
	if n := count(Filter{Query: "read_text_file"}); n != 1 {
		t.Errorf("search by tool name found %d", n)
	}
	if n := count(Filter{Query: "no-such-thing-anywhere"}); n != 0 {
		t.Errorf("found %d", n)
	}
}

// TestOAuthTemplatesAreReady: a template signing in with OAuth needs
// nothing at creation (each user connects their own account through the
// connect flow, core/upstreamauth), so its connector is created active.
func TestOAuthTemplatesAreReady(t *testing.T) {
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tpl := range all {
		if tpl.Auth.Kind != connector.AuthOAuth2 {
			continue
		}
		n++
		if m := tpl.Missing(Instance{}); len(m) > 0 {
			t.Errorf("%s: missing %v; an OAuth template needs nothing at creation", tpl.ID, m)
		}
		c, err := tpl.Connector(Instance{Owner: "ada"})
		if err != nil {
			t.Fatalf("%s: %v", tpl.ID, err)
		}
		if c.Status != connector.StatusActive || c.Auth.Kind != connector.AuthOAuth2 {
			t.Errorf("%s: created %s with auth kind %s, want active oauth2", tpl.ID, c.Status, c.Auth.Kind)
		}
	}
	if n == 0 {
		t.Fatal("no OAuth template in the catalog to check")
	}
}
