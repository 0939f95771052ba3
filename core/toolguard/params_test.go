package toolguard

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// readCallParams gives encoding/json's name and arguments (and
// decodeStrict's decoding of the arguments) on params it accepts, and
// refuses — leaving them to encoding/json — everything it would read
// differently.
func TestReadCallParams(t *testing.T) {
	tests := []struct {
		name, params string
		ok           bool
	}{
		{"name and arguments", `{"name":"search","arguments":{"q":"a \"b\"","n":3,"tags":["x"]}}`, true},
		{"spaces around the arguments", "{ \"arguments\" :\n [1, {\"a\":null}] , \"name\" : \"t\" }", true},
		{"other members skipped", `{"_meta":{"progressToken":1},"name":"t","arguments":{}}`, true},
		{"no arguments", `{"name":"t"}`, true},
		{"null arguments", `{"name":"t","arguments":null}`, true},
		{"escaped name", `{"name":"t\u00e9","arguments":"s"}`, true},
		{"a resource's uri", `{"uri":"file:///a b"}`, true},
		{"URI matched case-insensitively", `{"URI":"file:///a"}`, false},
		{"a uri that is not a string", `{"uri":{}}`, false},
		{"not an object", `["t"]`, false},
		{"a duplicate member", `{"name":"a","name":"b"}`, false},
		{"a duplicate inside the arguments", `{"name":"t","arguments":{"a":1,"a":2}}`, false},
		{"Name matched case-insensitively", `{"Name":"t","arguments":{}}`, false},
		{"ARGUMENTS matched case-insensitively", `{"name":"t","ARGUMENTS":{}}`, false},
		{"a name that is not a string", `{"name":1}`, false},
		{"invalid UTF-8", "{\"name\":\"t\xff\"}", false},
		{"trailing data", `{"name":"t"} x`, false},
		{"truncated", `{"name":"t","arguments":{"a":`, false},
		{"empty", ``, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if ok := checkReadCallParams(t, []byte(tc.params)); ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
		})
	}
}

// FuzzReadCallParams holds readCallParams to encoding/json's reading of
// what it accepts, and to refusing what jsontext refuses.
func FuzzReadCallParams(f *testing.F) {
	for _, c := range []string{
		`{"name":"search","arguments":{"q":"a \"b\"","n":3,"tags":["x"]}}`,
		`{"_meta":{"progressToken":1},"name":"t","arguments":{}}`,
		`{"uri":"file:///a b"}`, `{"name":"a","name":"b"}`, `{"Name":"t"}`,
	} {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, params []byte) { checkReadCallParams(t, params) })
}

// checkReadCallParams checks readCallParams on params against
// encoding/json and jsontext, and returns whether it accepted them.
func checkReadCallParams(t *testing.T, params []byte) bool {
	t.Helper()
	p, ok := readCallParams(params)
	if !ok {
		return false
	}
	if !validRaw(params) {
		t.Fatalf("%.80q: accepted what jsontext refuses", params)
	}
	var want struct {
		Name      string          `json:"name"`
		URI       string          `json:"uri"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(params, &want); err != nil {
		t.Fatalf("%.80q: accepted what encoding/json refuses: %v", params, err)
	}
	if p.name != want.Name || p.uri != want.URI || !bytes.Equal(p.args, want.Arguments) {
		t.Fatalf("%.80q: name %q uri %q arguments %s; encoding/json: %q %q %s", params, p.name, p.uri, p.args, want.Name, want.URI, want.Arguments)
	}
	if len(p.args) > 0 {
		d, ok := decodeStrict(p.args)
		if !ok || !reflect.DeepEqual(d, p.decoded) {
			t.Fatalf("%.80q: decoded %#v; decodeStrict of the arguments %#v (ok %v)", params, p.decoded, d, ok)
		}
	}
	return true
}
