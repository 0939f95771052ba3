package toolguard

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// echoGuard is a deterministic Module whose verdict names what it judged
// (the output text and the sensitivity), so a verdict for other content
// shows in the reason.
type echoGuard struct{ calls int }

func (g *echoGuard) Implements(h string) bool { return h == guard.HookToolCall }
func (g *echoGuard) CallWithin(_ context.Context, _ string, raw []byte, _ time.Duration) (guard.Verdict, error) {
	g.calls++
	var in guard.Input
	if err := json.Unmarshal(raw, &in); err != nil {
		return guard.Verdict{}, err
	}
	return guard.Flag(0.4, guard.Reason{Code: "seen", Message: judged(&in)}), nil
}

func judged(in *guard.Input) string {
	return in.Output.Text + "|" + in.Sensitivity.Level + "|" + string(in.Arguments) + "|" + in.Tool.Description + "|" + in.Connector.ID
}

// The verdict cache answers a repeated call without running the guard,
// and never answers for other content, other sensitivity, another module
// build or another hook: each reason names exactly what its own call
// held.
func TestVerdictCacheNeverAnswersForOtherContent(t *testing.T) {
	finds := func(string, *guard.Input) guard.Verdict {
		return guard.Flag(0.4, guard.Reason{Code: "n", Message: "native"})
	}
	g := &echoGuard{}
	e := New(DefaultSettings())
	e.SetChain([]Entry{{Name: "echo", Module: g, Enabled: true, Native: finds, Hash: "h1"}})
	base := Call{Slug: "s", Connector: guard.Connector{ID: "c1"}, Tool: guard.ToolRef{Name: "read", Description: "Reads."},
		Arguments: json.RawMessage(`{"id":"1"}`), Result: json.RawMessage(`{"content":[{"type":"text","text":"report one"}]}`)}
	check := func(name string, c Call, wantCalls int) {
		t.Helper()
		out, _ := e.CheckCall(context.Background(), c)
		in := guard.Input{Output: &guard.Output{Text: outputOf(t, string(c.Result)).Text}, Arguments: c.Arguments, Tool: &c.Tool, Connector: c.Connector}
		in.Sensitivity.Level = e.Settings().Sensitivity
		if len(out.Findings) != 1 || out.Findings[0].Message != judged(&in) {
			t.Errorf("%s: verdict %+v, want one reason %q", name, out.Findings, judged(&in))
		}
		if g.calls != wantCalls {
			t.Errorf("%s: the guard ran %d times in all, want %d", name, g.calls, wantCalls)
		}
	}
	check("first call", base, 1)
	check("the same call again is answered from the cache", base, 1)
	other := base
	other.RequestID = "another id"
	check("another request id is the same content", other, 1)
	n := 1
	for _, tc := range []struct {
		name   string
		change func(*Call)
	}{
		{"one byte of output", func(c *Call) { c.Result = json.RawMessage(`{"content":[{"type":"text","text":"report One"}]}`) }},
		{"the arguments", func(c *Call) { c.Arguments = json.RawMessage(`{"id":"2"}`) }},
		{"the tool's description", func(c *Call) { c.Tool.Description = "Reads!" }},
		{"the connector", func(c *Call) { c.Connector.ID = "c2" }},
	} {
		c := base
		tc.change(&c)
		n++
		check(tc.name, c, n)
		check(tc.name+", again", c, n)
	}
	s := e.Settings()
	s.Sensitivity = "paranoid"
	e.SetSettings(s)
	n++
	check("another sensitivity", base, n)
	e.SetChain([]Entry{{Name: "echo", Module: g, Enabled: true, Native: finds, Hash: "h2"}})
	n++
	check("another module build", base, n)
}

// Errors are never cached, and guards without a module hash or native
// rules (uploaded ones, which may keep state) are never cached.
func TestVerdictCacheSkipsErrorsAndUploadedGuards(t *testing.T) {
	finds := func(string, *guard.Input) guard.Verdict {
		return guard.Flag(0.4, guard.Reason{Code: "n", Message: "native"})
	}
	call := Call{Slug: "s", Tool: guard.ToolRef{Name: "read"}, Result: json.RawMessage(`{"content":[{"type":"text","text":"x"}]}`)}
	for _, tc := range []struct {
		name  string
		entry func(Module) Entry
		err   error
	}{
		{"a guard error", func(m Module) Entry { return Entry{Name: "g", Module: m, Enabled: true, Native: finds, Hash: "h"} }, context.DeadlineExceeded},
		{"no module hash", func(m Module) Entry { return Entry{Name: "g", Module: m, Enabled: true, Native: finds} }, nil},
		{"no native rules", func(m Module) Entry { return Entry{Name: "g", Module: m, Enabled: true, Hash: "h"} }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &fake{hooks: callHooks(), v: guard.Flag(0.4, guard.Reason{Code: "g", Message: "guest"}), err: tc.err}
			e := New(DefaultSettings())
			e.SetChain([]Entry{tc.entry(g)})
			e.CheckCall(context.Background(), call)
			e.CheckCall(context.Background(), call)
			if g.calls != 2 {
				t.Fatalf("the guard ran %d times for two calls, want 2", g.calls)
			}
		})
	}
}

// A clean native allow is cached from cleanCacheMin on (the rules do not
// run again); below it the rules judge every call again and nothing is
// cached. The guest never runs in either case.
func TestVerdictCacheRemembersLargeCleanAllows(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int
		wantRuns int
	}{
		{"small: judged again", 1 << 10, 3},
		{"just below the bound: judged again", cleanCacheMin - 64, 3},
		{"at the bound: cached", cleanCacheMin, 1},
		{"large: cached", 64 << 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			clean := func(string, *guard.Input) guard.Verdict { runs++; return guard.Allow() }
			g := &fake{hooks: callHooks(), v: guard.Block(0.9, guard.Reason{Code: "g", Message: "guest"})}
			e := New(DefaultSettings())
			e.SetChain([]Entry{{Name: "g", Module: g, Enabled: true, Native: clean, Hash: "h"}})
			res, _ := json.Marshal(map[string]any{"content": []map[string]string{{"type": "text", "text": strings.Repeat("x", tc.size)}}})
			call := Call{Slug: "s", Tool: guard.ToolRef{Name: "read"}, Result: res}
			for i := 0; i < 3; i++ {
				if out, _ := e.CheckCall(context.Background(), call); out.Action != guard.ActionAllow {
					t.Fatalf("call %d: %s", i, out.Action)
				}
			}
			if runs != tc.wantRuns || g.calls != 0 {
				t.Fatalf("native ran %d times, guest %d, want %d and 0", runs, g.calls, tc.wantRuns)
			}
		})
	}
}

// The cache keeps at most cacheEntries entries and cacheBytes of keys,
// and does not keep one key larger than a sixteenth of its bytes.
func TestVerdictCacheStaysBounded(t *testing.T) {
	c := newVerdictCache()
	key := func(guard, text string) cacheKey {
		return cacheKey{guard: guard, id: c.id(content{head: "h", text: text})}
	}
	for i := 0; i < 2*cacheEntries; i++ {
		c.put(key("g", strconv.Itoa(i)), cached{clean: true})
		if n := c.entries(); n > cacheEntries || c.n != n {
			t.Fatalf("after %d: %d entries, %d in the ring", i+1, n, c.n)
		}
	}
	for i := 0; i < 4*maxVerdictsPerEntry; i++ {
		c.put(key(strconv.Itoa(i), "one"), cached{clean: true})
	}
	if n := len(c.entry(c.id(content{head: "h", text: "one"})).verdicts); n > maxVerdictsPerEntry {
		t.Fatalf("one content holds %d verdicts", n)
	}
	big := strings.Repeat("x", cacheBytes/32)
	for i := 0; i < 64; i++ {
		c.put(key("g", big+strconv.Itoa(i)), cached{clean: true})
		if c.bytes > cacheBytes {
			t.Fatalf("after %d large keys: %d bytes", i+1, c.bytes)
		}
	}
	c.put(key("g", strings.Repeat("y", cacheBytes/8)), cached{clean: true})
	if _, ok := c.get(key("g", strings.Repeat("y", cacheBytes/8))); ok {
		t.Fatal("an oversized key was kept")
	}
}

// Contents whose hashes collide are told apart by the content itself:
// each gets its own verdict, and evicting one keeps the other.
func TestVerdictCacheTellsCollidingContentsApart(t *testing.T) {
	c := newVerdictCache()
	a, b := contentID{content: content{head: "h", text: "report one"}, sum: 7}, contentID{content: content{head: "h", text: "report two"}, sum: 7}
	c.put(cacheKey{guard: "g", id: a}, cached{v: guard.Flag(0.4, guard.Reason{Code: "a"})})
	if _, ok := c.get(cacheKey{guard: "g", id: b}); ok {
		t.Fatal("a verdict was returned for other content with the same hash")
	}
	c.put(cacheKey{guard: "g", id: b}, cached{v: guard.Flag(0.4, guard.Reason{Code: "b"})})
	for _, tc := range []struct {
		id   contentID
		want string
	}{{a, "a"}, {b, "b"}} {
		got, ok := c.get(cacheKey{guard: "g", id: tc.id})
		if !ok || got.v.Reasons[0].Code != tc.want {
			t.Fatalf("%q: %+v %v, want its own verdict %q", tc.id.content, got, ok, tc.want)
		}
	}
	c.evictOldest()
	if _, ok := c.get(cacheKey{guard: "g", id: a}); ok {
		t.Fatal("the evicted content is still answered")
	}
	if got, ok := c.get(cacheKey{guard: "g", id: b}); !ok || got.v.Reasons[0].Code != "b" {
		t.Fatalf("evicting one colliding content lost the other: %+v %v", got, ok)
	}
	if c.entries() != 1 || c.bytes != b.content.size() {
		t.Fatalf("%d entries, %d bytes after the eviction", c.entries(), c.bytes)
	}
}

// Every field of the envelope changes the content key, but the ones the
// built-in rules do not read (and the hook, which is in the key). A field
// added to guard.Input later fails here until contentKey covers it.
func TestContentKeyCoversTheEnvelope(t *testing.T) {
	excluded := map[string]bool{"V": true, "Hook": true, "RequestID": true, "Output.Content": true}
	full := func() *guard.Input {
		return &guard.Input{V: 1, Hook: "h", RequestID: "r", Connector: guard.Connector{ID: "i", Name: "n", Sensitive: true},
			Sensitivity: guard.Sensitivity{Level: "l", Threshold: 0.5},
			Tools:       []guard.Tool{{Name: "a", Title: "b", Description: "c", InputSchema: []byte("{}"), OutputSchema: []byte("{}"), Annotations: []byte("{}"), PinnedHash: "p"}},
			Known:       []guard.KnownTool{{Connector: "k", Name: "o"}},
			Method:      "m", Tool: &guard.ToolRef{Name: "t", Description: "d"}, Arguments: []byte("{}"),
			Output: &guard.Output{Content: []byte("[]"), Text: "x", Parts: []guard.Part{{Path: "/p", Span: [2]int{1, 2}, Key: true}}, IsError: true}, Truncated: true}
	}
	base := contentKey(full())
	var leaves [][]int
	var names []string
	var walk func(t reflect.Type, path []int, name string)
	walk = func(t reflect.Type, path []int, name string) {
		switch t.Kind() {
		case reflect.Pointer:
			leaves, names = append(leaves, path), append(names, name+"(nil)")
			walk(t.Elem(), path, name)
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				n := f.Name
				if name != "" {
					n = name + "." + f.Name
				}
				walk(f.Type, append(append([]int(nil), path...), i), n)
			}
		case reflect.Slice:
			if t.Elem().Kind() == reflect.Uint8 {
				leaves, names = append(leaves, path), append(names, name)
				return
			}
			leaves, names = append(leaves, path), append(names, name+"(empty)")
			walk(t.Elem(), append(append([]int(nil), path...), -1), name+"[0]")
		case reflect.Array:
			for k := 0; k < t.Len(); k++ {
				leaves, names = append(leaves, append(append([]int(nil), path...), -1-k)), append(names, name+"["+strconv.Itoa(k)+"]")
			}
		default:
			leaves, names = append(leaves, path), append(names, name)
		}
	}
	walk(reflect.TypeOf(guard.Input{}), nil, "")
	for i, path := range leaves {
		name := names[i]
		in := full()
		v := reflect.ValueOf(in).Elem()
		for _, step := range path {
			switch {
			case step < 0: // element -1-step of a slice or array
				v = v.Index(-1 - step)
			default:
				if v.Kind() == reflect.Pointer {
					v = v.Elem()
				}
				v = v.Field(step)
			}
		}
		switch {
		case strings.HasSuffix(name, "(nil)") || strings.HasSuffix(name, "(empty)"):
			v.Set(reflect.Zero(v.Type()))
			name = strings.TrimSuffix(strings.TrimSuffix(name, "(nil)"), "(empty)")
		case v.Kind() == reflect.Pointer:
			v = v.Elem()
			fallthrough
		default:
			mutate(t, v)
		}
		if excluded[name] {
			continue
		}
		if contentKey(in) == base {
			t.Errorf("changing %s does not change the content key", name)
		}
	}
}

func mutate(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "!")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int:
		v.SetInt(v.Int() + 1)
	case reflect.Float64:
		v.SetFloat(v.Float() + 0.125)
	case reflect.Slice:
		v.SetBytes(append(append([]byte(nil), v.Bytes()...), ' '))
	default:
		t.Fatalf("no mutation for %s", v.Kind())
	}
}

// entries counts the cached contents.
func (c *verdictCache) entries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.m {
		for ; e != nil; e = e.next {
			n++
		}
	}
	return n
}
