package offload

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newOffloader(t testing.TB, cfg Config) (*Offloader, *clock, *store.Store) {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	n := 0
	o, err := New(context.Background(), cfg, st.Offloads(), Options{Now: c.now, NewID: func() string { n++; return "id" + strconv.Itoa(n) }}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return o, c, st
}

func textResult(text string) json.RawMessage {
	raw, _ := json.Marshal(map[string]any{"content": []any{map[string]any{"type": "text", "text": text}}})
	return raw
}

type decoded struct {
	Content []struct {
		Type     string          `json:"type"`
		Text     string          `json:"text"`
		URI      string          `json:"uri"`
		MimeType string          `json:"mimeType"`
		Size     int64           `json:"size"`
		Data     string          `json:"data"`
		Ann      json.RawMessage `json:"annotations"`
	} `json:"content"`
	Structured json.RawMessage `json:"structuredContent"`
	IsError    bool            `json:"isError"`
}

func decode(t *testing.T, raw json.RawMessage) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return d
}

// readAll reads uri back by following next ranges of length step (0:
// one whole read) and returns the concatenated bytes.
func readAll(t *testing.T, o *Offloader, user, slug, uri string, step int64) []byte {
	t.Helper()
	var out []byte
	next := uri
	if step > 0 {
		next = uri + "?offset=0&length=" + strconv.FormatInt(step, 10)
	}
	for i := 0; next != ""; i++ {
		if i > 100000 {
			t.Fatal("ranges never end")
		}
		raw, rpcErr := o.ReadResult(context.Background(), user, slug, next, false)
		if rpcErr != nil {
			t.Fatalf("read %s: %v", next, rpcErr)
		}
		var r struct {
			Contents []struct {
				Text *string `json:"text"`
				Blob *string `json:"blob"`
			} `json:"contents"`
			Meta map[string]struct {
				Next string `json:"next"`
			} `json:"_meta"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || len(r.Contents) != 1 {
			t.Fatalf("read result %s: %v", raw, err)
		}
		switch c := r.Contents[0]; {
		case c.Text != nil:
			out = append(out, *c.Text...)
		case c.Blob != nil:
			b, err := base64.StdEncoding.DecodeString(*c.Blob)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b...)
		}
		next = r.Meta[MetaKey].Next
	}
	return out
}

func TestRewriteSizes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		size      int
		threshold int // the connector's, 0: the gateway's (100)
		offloaded bool
	}{
		{"an output at the threshold stays inline", 100, 0, false},
		{"an output one byte over the threshold is offloaded", 101, 0, true},
		{"a connector's own threshold wins", 101, 200, false},
		{"a connector's lower threshold offloads smaller outputs", 60, 50, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, _ := newOffloader(t, Config{Threshold: 100, Preview: 10})
			in := textResult(strings.Repeat("x", tt.size))
			out, oc := o.Rewrite(ctx, Call{User: "alice", Connector: "big", Tool: "dump", Threshold: tt.threshold}, in)
			if got := len(oc.Stored) == 1; got != tt.offloaded {
				t.Fatalf("offloaded %v (%+v), want %v", got, oc, tt.offloaded)
			}
			if !tt.offloaded {
				if !bytes.Equal(out, in) {
					t.Fatalf("an inline result changed: %s", out)
				}
				return
			}
			d := decode(t, out)
			if len(d.Content) != 2 || d.Content[0].Type != "text" || d.Content[1].Type != "resource_link" {
				t.Fatalf("content %+v, want a preview and a link", d.Content)
			}
			if !strings.HasPrefix(d.Content[0].Text, strings.Repeat("x", 10)+"\n\n[Gatehouse stored") {
				t.Errorf("preview %q", d.Content[0].Text)
			}
			l := d.Content[1]
			if l.URI != "gatehouse://offload/big/id1" || l.Size != int64(tt.size) || l.MimeType != "text/plain" {
				t.Errorf("link %+v", l)
			}
			if got := readAll(t, o, "alice", "big", l.URI, 0); string(got) != strings.Repeat("x", tt.size) {
				t.Errorf("read back %d bytes, want the %d stored", len(got), tt.size)
			}
		})
	}
}

func TestRewriteContentKinds(t *testing.T) {
	ctx := context.Background()
	bin := bytes.Repeat([]byte{0, 1, 2, 250, 255}, 100)
	b64 := base64.StdEncoding.EncodeToString(bin)
	big := strings.Repeat("ü", 300) // 600 bytes, 2 per rune
	tests := []struct {
		name     string
		result   map[string]any
		keep     bool
		wantKind []string // content types after the rewrite
		wantMime string   // of the first link
		want     []byte   // what the first link reads back
		check    func(t *testing.T, d decoded)
	}{
		{"a large text becomes a preview and a link",
			map[string]any{"content": []any{map[string]any{"type": "text", "text": big}}}, false,
			[]string{"text", "resource_link"}, "text/plain", []byte(big), func(t *testing.T, d decoded) {
				if p, _, _ := strings.Cut(d.Content[0].Text, "\n\n["); p != strings.Repeat("ü", 5) {
					t.Errorf("preview %q: want 10 bytes cut on a rune boundary", p)
				}
			}},
		{"an image becomes a link to its decoded bytes, keeping its annotations",
			map[string]any{"content": []any{map[string]any{"type": "image", "mimeType": "image/png", "data": b64, "annotations": map[string]any{"priority": 1}}}}, false,
			[]string{"resource_link"}, "image/png", bin, func(t *testing.T, d decoded) {
				if string(d.Content[0].Ann) != `{"priority":1}` {
					t.Errorf("annotations %s", d.Content[0].Ann)
				}
			}},
		{"audio becomes a link",
			map[string]any{"content": []any{map[string]any{"type": "audio", "mimeType": "audio/wav", "data": b64}}}, false,
			[]string{"resource_link"}, "audio/wav", bin, nil},
		{"an embedded text resource becomes a link",
			map[string]any{"content": []any{map[string]any{"type": "resource", "resource": map[string]any{"uri": "file:///a.txt", "mimeType": "text/markdown", "text": big}}}}, false,
			[]string{"resource_link"}, "text/markdown", []byte(big), nil},
		{"an embedded blob resource becomes a link",
			map[string]any{"content": []any{map[string]any{"type": "resource", "resource": map[string]any{"uri": "file:///a.bin", "mimeType": "application/octet-stream", "blob": b64}}}}, false,
			[]string{"resource_link"}, "application/octet-stream", bin, nil},
		{"small blocks stay inline beside an offloaded one",
			map[string]any{"content": []any{map[string]any{"type": "text", "text": "short"}, map[string]any{"type": "text", "text": big}, map[string]any{"type": "resource_link", "uri": "x://y", "name": "y"}}}, false,
			[]string{"text", "text", "resource_link", "resource_link"}, "text/plain", []byte(big), func(t *testing.T, d decoded) {
				if d.Content[0].Text != "short" || d.Content[3].URI != "x://y" {
					t.Errorf("inline blocks changed: %+v", d.Content)
				}
			}},
		{"structuredContent without an outputSchema is offloaded and replaced by its link",
			map[string]any{"content": []any{}, "structuredContent": map[string]any{"rows": big}}, false,
			[]string{"resource_link"}, "application/json", []byte(`{"rows":"` + big + `"}`), func(t *testing.T, d decoded) {
				var s struct {
					Offloaded struct {
						URI string `json:"uri"`
					} `json:"offloaded"`
				}
				if json.Unmarshal(d.Structured, &s) != nil || s.Offloaded.URI != d.Content[0].URI {
					t.Errorf("structuredContent %s does not name the link %s", d.Structured, d.Content[0].URI)
				}
			}},
		{"structuredContent under an outputSchema stays in place; the text is offloaded",
			map[string]any{"content": []any{map[string]any{"type": "text", "text": big}}, "structuredContent": map[string]any{"rows": big}}, true,
			[]string{"text", "resource_link"}, "text/plain", []byte(big), func(t *testing.T, d decoded) {
				if string(d.Structured) != `{"rows":"`+big+`"}` {
					t.Errorf("structuredContent changed: %.80s", d.Structured)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, _ := newOffloader(t, Config{Threshold: 100, Preview: 10})
			in, _ := json.Marshal(tt.result)
			out, oc := o.Rewrite(ctx, Call{User: "alice", Connector: "big", Tool: "dump", KeepStructured: tt.keep}, in)
			if oc.Refused != nil || oc.Failed != nil || len(oc.Stored) == 0 {
				t.Fatalf("outcome %+v", oc)
			}
			d := decode(t, out)
			var kinds []string
			var first string
			for _, c := range d.Content {
				kinds = append(kinds, c.Type)
				if c.Type == "resource_link" && first == "" && strings.HasPrefix(c.URI, Prefix) {
					first = c.URI
					if c.MimeType != tt.wantMime {
						t.Errorf("link mimeType %q, want %q", c.MimeType, tt.wantMime)
					}
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tt.wantKind, ",") {
				t.Fatalf("content kinds %v, want %v", kinds, tt.wantKind)
			}
			if got := readAll(t, o, "alice", "big", first, 0); !bytes.Equal(got, tt.want) {
				t.Errorf("read back %d bytes, want the %d stored", len(got), len(tt.want))
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
}

func TestRewriteLeavesOtherResults(t *testing.T) {
	o, _, _ := newOffloader(t, Config{Threshold: 10, Preview: 5})
	for _, in := range []string{
		`{"resultType":"input_required","inputRequests":{"a":{"method":"elicitation/create","params":{"message":"` + strings.Repeat("x", 100) + `"}}}}`,
		`"not an object"`,
		`{"content":"not a list"}`,
		`{"content":[{"type":"image","data":"!!!not base64!!!` + strings.Repeat("x", 100) + `"}]}`,
	} {
		out, oc := o.Rewrite(context.Background(), Call{User: "a", Connector: "c"}, json.RawMessage(in))
		if string(out) != in || len(oc.Stored) != 0 {
			t.Errorf("%.40s… rewritten to %.80s (%+v)", in, out, oc)
		}
	}
}

func TestRanges(t *testing.T) {
	o, _, _ := newOffloader(t, Config{Threshold: 10, Preview: 5})
	put := func(text bool, data []byte) string {
		st, err := o.Put(context.Background(), Item{User: "alice", Connector: "big", Text: text, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return st.URI
	}
	// 1-, 2-, 3- and 4-byte runes; the large ones span several chunks.
	smallText, largeText := strings.Repeat("aé€😀", 100), strings.Repeat("aé€😀", 60000)
	smallBin, largeBin := bytes.Repeat([]byte{0xF0, 0x80, 0x00, 0xFF}, 250), bytes.Repeat([]byte{0xF0, 0x80, 0x00, 0xFF}, 150000)
	tests := []struct {
		name  string
		text  bool
		data  []byte
		steps []int64
	}{
		{"small text", true, []byte(smallText), []int64{1, 2, 3, 5, 7, 999}},
		{"large text", true, []byte(largeText), []int64{0, 65536, 100003, 300000}},
		{"small binary", false, smallBin, []int64{1, 3, 7, 999}},
		{"large binary", false, largeBin, []int64{0, 65536, 100003, 300000}},
	}
	for _, tt := range tests {
		uri := put(tt.text, tt.data)
		for _, step := range tt.steps {
			t.Run(tt.name+" read in ranges of "+strconv.FormatInt(step, 10)+" bytes adds up to the whole", func(t *testing.T) {
				if got := readAll(t, o, "alice", "big", uri, step); !bytes.Equal(got, tt.data) {
					t.Fatalf("read %d bytes, not identical to the %d stored", len(got), len(tt.data))
				}
			})
		}
	}
	st := Stored{URI: put(true, []byte(smallText))}
	t.Run("a range starting inside a rune starts at the next rune", func(t *testing.T) {
		p, err := o.Read(context.Background(), "alice", "big", st.URI+"?offset=2&length=4")
		if err != nil || p.Offset != 3 || string(p.Data) != "€" {
			t.Fatalf("piece %+v %q, %v; want € from offset 3", p.Offset, p.Data, err)
		}
	})
}

func TestReadRefusals(t *testing.T) {
	ctx := context.Background()
	o, c, _ := newOffloader(t, Config{Threshold: 10, Preview: 5, TTL: time.Minute})
	st, err := o.Put(ctx, Item{User: "alice", Connector: "big", Text: true, Data: []byte("hello world")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, slug, uri string
		modern                bool
		code                  int
		msg                   string
	}{
		{"another user is told not found", "bob", "big", st.URI, false, CodeResourceNotFoundLegacy, "not found"},
		{"another user is told not found in the 2026-07-28 code", "bob", "big", st.URI, true, mcp.CodeInvalidParams, "not found"},
		{"an unknown id reads exactly as another user's", "bob", "big", URI("big", "nope"), false, CodeResourceNotFoundLegacy, "not found"},
		{"another connector is told not found", "alice", "other", URI("other", st.ID), false, CodeResourceNotFoundLegacy, "not found"},
		{"a link read on another connector's endpoint is not found", "alice", "other", st.URI, false, CodeResourceNotFoundLegacy, "not found"},
		{"a malformed link is invalid params", "alice", "big", Prefix + "big", false, mcp.CodeInvalidParams, "the path must be"},
		{"an unknown range parameter is invalid params", "alice", "big", st.URI + "?from=1", false, mcp.CodeInvalidParams, "unknown parameter from"},
		{"a negative offset is invalid params", "alice", "big", st.URI + "?offset=-1", false, mcp.CodeInvalidParams, "non-negative"},
		{"a zero length is invalid params", "alice", "big", st.URI + "?length=0", false, mcp.CodeInvalidParams, "positive"},
		{"an offset past the end is invalid params", "alice", "big", st.URI + "?offset=12", false, mcp.CodeInvalidParams, "past the output's end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := o.ReadResult(ctx, tt.user, tt.slug, tt.uri, tt.modern)
			if e == nil || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error %v, want code %d with %q", e, tt.code, tt.msg)
			}
		})
	}
	t.Run("the owner reads it in the 2026-07-28 shape", func(t *testing.T) {
		raw, e := o.ReadResult(ctx, "alice", "big", st.URI, true)
		var r struct {
			ResultType string `json:"resultType"`
			TTL        int64  `json:"ttlMs"`
			Scope      string `json:"cacheScope"`
			Contents   []struct {
				URI, Text string
			} `json:"contents"`
		}
		if e != nil || json.Unmarshal(raw, &r) != nil || r.ResultType != "complete" || r.TTL != 60000 || r.Scope != "private" || len(r.Contents) != 1 || r.Contents[0].Text != "hello world" || r.Contents[0].URI != st.URI {
			t.Fatalf("read %s, %v", raw, e)
		}
	})
	t.Run("the legacy shape has no 2026-07-28 fields", func(t *testing.T) {
		raw, e := o.ReadResult(ctx, "alice", "big", st.URI, false)
		if e != nil || bytes.Contains(raw, []byte("resultType")) || bytes.Contains(raw, []byte("ttlMs")) {
			t.Fatalf("read %s, %v", raw, e)
		}
	})
	t.Run("past its TTL the owner is told it expired, and its quota is freed", func(t *testing.T) {
		c.t = c.t.Add(time.Minute)
		_, e := o.ReadResult(ctx, "alice", "big", st.URI, false)
		if e == nil || e.Code != CodeResourceNotFoundLegacy || !strings.Contains(e.Message, "expired at 2026-12-03T10:01:00Z") {
			t.Fatalf("error %v, want expired", e)
		}
		if mine, total := o.Usage("alice"); mine != 0 || total != 0 {
			t.Errorf("usage %d/%d after expiry, want 0/0", mine, total)
		}
		if _, e := o.ReadResult(ctx, "alice", "big", st.URI, false); e == nil || !strings.Contains(e.Message, "expired") {
			t.Errorf("second read after expiry: %v, want expired again (tombstone)", e)
		}
		if _, e := o.ReadResult(ctx, "bob", "big", st.URI, false); e == nil || strings.Contains(e.Message, "expired") {
			t.Errorf("another user after expiry: %v, want not found", e)
		}
	})
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	o, c, st := newOffloader(t, Config{TTL: time.Minute})
	if _, err := o.Put(ctx, Item{User: "alice", Connector: "big", Data: make([]byte, 1000)}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(30 * time.Second)
	if _, err := o.Put(ctx, Item{User: "alice", Connector: "big", Data: make([]byte, 10)}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(30 * time.Second)
	o.Sweep(ctx)
	if mine, _ := o.Usage("alice"); mine != 10 {
		t.Fatalf("usage %d after the first expired, want 10", mine)
	}
	t.Run("a restart rebuilds the usage from the store", func(t *testing.T) {
		again, err := New(ctx, Config{TTL: time.Minute}, st.Offloads(), Options{Now: c.now}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if mine, total := again.Usage("alice"); mine != 10 || total != 10 {
			t.Fatalf("usage %d/%d after restart, want 10/10", mine, total)
		}
	})
}

func TestQuota(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		user, all int64
		scope     string
	}{
		{"the user's quota refuses", 1500, 1 << 20, "user"},
		{"the gateway's quota refuses", 1 << 20, 1500, "gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, _ := newOffloader(t, Config{Threshold: 100, Preview: 10, UserQuota: tt.user, TotalQuota: tt.all})
			first, oc := o.Rewrite(ctx, Call{User: "alice", Connector: "big", Tool: "dump"}, textResult(strings.Repeat("a", 1000)))
			if len(oc.Stored) != 1 {
				t.Fatalf("first output not stored: %+v", oc)
			}
			two, _ := json.Marshal(map[string]any{"content": []any{
				map[string]any{"type": "text", "text": strings.Repeat("b", 300)},
				map[string]any{"type": "text", "text": strings.Repeat("c", 400)},
			}})
			out, oc := o.Rewrite(ctx, Call{User: "alice", Connector: "big", Tool: "dump"}, two)
			var q *QuotaError
			if !errors.As(oc.Refused, &q) || q.Scope != tt.scope || len(oc.Stored) != 0 {
				t.Fatalf("outcome %+v, want a %s quota refusal", oc, tt.scope)
			}
			d := decode(t, out)
			if !d.IsError || len(d.Content) != 3 || !strings.Contains(d.Content[0].Text, "quota is full: 1000 of 1500 bytes in use, this output needs 700 more") ||
				!strings.HasPrefix(d.Content[1].Text, strings.Repeat("b", 10)+"\n[… preview only]") {
				t.Fatalf("refusal %s", out)
			}
			if mine, _ := o.Usage("alice"); mine != 1000 {
				t.Errorf("usage %d: the refused output's first block was not given back", mine)
			}
			t.Run("the earlier link still reads", func(t *testing.T) {
				if got := readAll(t, o, "alice", "big", decode(t, first).Content[1].URI, 0); len(got) != 1000 {
					t.Fatalf("read %d bytes", len(got))
				}
			})
			t.Run("a small output still answers inline", func(t *testing.T) {
				small := textResult("tiny")
				if out, oc := o.Rewrite(ctx, Call{User: "alice", Connector: "big"}, small); !bytes.Equal(out, small) || oc.Refused != nil {
					t.Fatalf("small result %s, %+v", out, oc)
				}
			})
		})
	}
}

func TestAdvertise(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"adds resources to an initialize result without it", `{"capabilities":{"tools":{}},"protocolVersion":"2025-11-25"}`, `{"capabilities":{"resources":{},"tools":{}},"protocolVersion":"2025-11-25"}`},
		{"keeps an upstream's own resources capability", `{"capabilities":{"resources":{"subscribe":true}}}`, `{"capabilities":{"resources":{"subscribe":true}}}`},
		{"adds capabilities when there are none", `{"serverInfo":{}}`, `{"capabilities":{"resources":{}},"serverInfo":{}}`},
		{"leaves what is not an object", `[1]`, `[1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Advertise(json.RawMessage(tt.in))); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}
