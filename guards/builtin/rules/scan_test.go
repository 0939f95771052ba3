package rules

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// walkJSON gives what the Decoder-based walk it replaced gave, on valid
// documents and on the ones Unmarshal refuses (trailing data, numbers
// beyond float64), which take the old path.
func TestWalkJSONIsTheDecoderWalk(t *testing.T) {
	old := func(raw json.RawMessage) []field {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil
		}
		w := walker{}
		w.walk(v, "/a", "", 0)
		return w.out
	}
	for _, doc := range []string{
		`{"id":"q3-2026"}`, `{"b":["x",{"c":"y"}],"a":1e5,"n":null,"t":true}`, `"plain"`, `[1,"two",[3,"four"]]`,
		`{"a":"first","a":"second"}`, "{\"k\":\"\xffbad\"}", `{"big":1e999,"s":"after"}`, `{"a":"x"} {"b":"y"}`,
		`{"a":"x"} trailing`, `{"a":`, ``, `null`, `  {"s":"\u00e9\n"}  `, `{"~/":"escaped name"}`,
	} {
		if got, want := walkJSON(json.RawMessage(doc), "/a"), old(json.RawMessage(doc)); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %+v, want %+v", doc, got, want)
		}
	}
}
