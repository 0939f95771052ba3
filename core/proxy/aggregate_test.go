package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

// resourceUpstream is a legacy Streamable HTTP server listing resources
// (with extraURI too while extra is set) and templates; a read answers
// with the server's name.
type resourceUpstream struct {
	*httptest.Server
	name      string
	resources []string
	templates []string
	extra     atomic.Bool
	extraURI  string
}

func newResourceUpstream(t *testing.T, name string, resources, templates []string) *resourceUpstream {
	u := &resourceUpstream{name: name, resources: resources, templates: templates}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.Close)
	return u
}

// serveLegacy is the framing of a fake legacy (2025-11-25) Streamable
// HTTP upstream named name with the capability capability: it refuses
// server/discover, answers initialize with session id name, accepts
// notifications, and answers any other request with answer's result.
func serveLegacy(w http.ResponseWriter, r *http.Request, name, capability string, answer func(*mcp.Message) any) {
	body, _ := io.ReadAll(r.Body)
	msg, rpcErr := mcp.Parse(body)
	if rpcErr != nil || msg.Kind() != mcp.KindRequest {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	var result any
	switch msg.Method {
	case mcp.MethodServerDiscover:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"error":{"code":-32600,"message":"no session"}}`)
		return
	case mcp.MethodInitialize:
		w.Header().Set(mcp.HeaderSessionID, name)
		result = map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{capability: map[string]any{}}, "serverInfo": map[string]any{"name": name, "version": "1"}}
	default:
		result = answer(msg)
	}
	m, _ := mcp.NewResult(msg.ID, result)
	_, _ = w.Write(m.Bytes())
}

func (u *resourceUpstream) serve(w http.ResponseWriter, r *http.Request) {
	serveLegacy(w, r, u.name, "resources", u.answer)
}

func (u *resourceUpstream) answer(msg *mcp.Message) any {
	var result any
	switch msg.Method {
	case "resources/list":
		uris := u.resources
		if u.extra.Load() {
			uris = append([]string{u.extraURI}, uris...)
		}
		items := []any{}
		for _, uri := range uris {
			items = append(items, map[string]any{"uri": uri, "name": u.name})
		}
		result = map[string]any{"resources": items}
	case "resources/templates/list":
		items := []any{}
		for _, tpl := range u.templates {
			items = append(items, map[string]any{"uriTemplate": tpl, "name": u.name})
		}
		result = map[string]any{"resourceTemplates": items}
	case "resources/read":
		var p struct {
			URI string `json:"uri"`
		}
		_ = json.Unmarshal(msg.Params, &p)
		result = map[string]any{"contents": []any{map[string]any{"uri": p.URI, "text": u.name}}}
	default:
		result = map[string]any{}
	}
	return result
}

// listed returns, per URI (or template), the names of the items listing it.
func listed(t *testing.T, s *Session, method, field, key string) map[string][]string {
	t.Helper()
	st, err := s.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 7, method, ""))
	if err != nil {
		t.Fatal(err)
	}
	m, err := lastMessage(upstreamtest.Guard(t), st)
	if err != nil || m.Error != nil {
		t.Fatalf("%s: %v %v", method, m, err)
	}
	var res map[string][]map[string]string
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, item := range res[field] {
		out[item[key]] = append(out[item[key]], item["name"])
	}
	return out
}

func TestAggregateResourcesBelongToTheirFirstLister(t *testing.T) {
	alpha := newResourceUpstream(t, "alpha", []string{"file:///shared", "file:///alpha"}, []string{"file:///{path}", "alpha:///{id}"})
	beta := newResourceUpstream(t, "beta", []string{"file:///beta"}, []string{"file:///{path}"})
	beta.extraURI = "file:///shared"
	p := newLimitedProxy(t, Options{}, httpConnector("alpha", alpha.URL), httpConnector("beta", beta.URL))
	agg, _, err := p.InitializeAggregate(context.Background(), ada, initMsg)
	if err != nil {
		t.Fatal(err)
	}
	read := func(uri string) string {
		t.Helper()
		st, err := agg.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 8, "resources/read", `{"uri":"`+uri+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		m, err := lastMessage(upstreamtest.Guard(t), st)
		if err != nil || m.Error != nil {
			t.Fatalf("read %s: %v %v", uri, m, err)
		}
		var res struct {
			Contents []struct {
				Text string `json:"text"`
			} `json:"contents"`
		}
		_ = json.Unmarshal(m.Result, &res)
		if len(res.Contents) != 1 {
			t.Fatalf("read %s: %s", uri, m.Result)
		}
		return res.Contents[0].Text
	}

	if got := listed(t, agg, "resources/list", "resources", "uri")["file:///shared"]; len(got) != 1 || got[0] != "alpha" {
		t.Fatalf("file:///shared listed by %v, want alpha alone", got)
	}
	// beta now lists the URI alpha listed first.
	beta.extra.Store(true)
	got := listed(t, agg, "resources/list", "resources", "uri")
	if owners := got["file:///shared"]; len(owners) != 1 || owners[0] != "alpha" {
		t.Errorf("after beta listed it too, file:///shared is listed by %v, want alpha alone", owners)
	}
	if len(got["file:///alpha"]) != 1 || len(got["file:///beta"]) != 1 {
		t.Errorf("the connectors' own resources: %v", got)
	}
	if who := read("file:///shared"); who != "alpha" {
		t.Errorf("file:///shared was read from %s, want alpha (its first lister)", who)
	}
	if who := read("file:///beta"); who != "beta" {
		t.Errorf("file:///beta was read from %s", who)
	}
	templates := listed(t, agg, "resources/templates/list", "resourceTemplates", "uriTemplate")
	if owners := templates["file:///{path}"]; len(owners) != 1 || owners[0] != "alpha" {
		t.Errorf("the shared template is listed by %v, want alpha alone", owners)
	}
	if len(templates["alpha:///{id}"]) != 1 {
		t.Errorf("alpha's own template: %v", templates)
	}
	t.Run("a connector that changed gives up what it owned", func(t *testing.T) {
		p.ConnectorChanged("alpha")
		alpha.Close()
		got := listed(t, agg, "resources/list", "resources", "uri")
		if owners := got["file:///shared"]; len(owners) != 1 || owners[0] != "beta" {
			t.Errorf("file:///shared is listed by %v, want beta now", owners)
		}
		if who := read("file:///shared"); who != "beta" {
			t.Errorf("file:///shared was read from %s, want beta", who)
		}
	})
}

func TestAggregateRelayTellsTheRoutedAnswersFraming(t *testing.T) {
	alpha := newResourceUpstream(t, "alpha", []string{"file:///alpha"}, nil)
	p := newLimitedProxy(t, Options{}, httpConnector("alpha", alpha.URL))
	agg, _, err := p.InitializeAggregate(context.Background(), ada, initMsg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, params string
		json                 bool
	}{
		{"a merged listing is the gateway's own stream", "resources/list", `{}`, false},
		{"a read routed to one connector mirrors its plain JSON answer", "resources/read", `{"uri":"file:///alpha"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var framing upstream.Framing
			st, err := agg.Relay(upstreamtest.Guard(t), upstreamtest.Request(t, 9, tc.method, tc.params), &framing)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if m, err := lastMessage(upstreamtest.Guard(t), st); err != nil || m.Error != nil {
				t.Fatalf("%s: %v %v", tc.method, m, err)
			}
			if framing.JSON() != tc.json {
				t.Fatalf("framing says JSON = %v, want %v", framing.JSON(), tc.json)
			}
		})
	}
}
