package access

import (
	"encoding/json"
	"testing"
)

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"absent arguments are the empty object", ``, `{}`},
		{"null arguments are the empty object", `null`, `{}`},
		{"members sort by name at every depth", `{"b":1,"a":{"d":[3,{"z":1,"y":2}],"c":true}}`, `{"a":{"c":true,"d":[3,{"y":2,"z":1}]},"b":1}`},
		{"insignificant space goes", " {\n \"a\" : [ 1 , 2 ] }\t", `{"a":[1,2]}`},
		{"equal numbers are written alike", `[1,1.0,1e0,10E-1,100,1e2,-0,0.5,5e-1]`, `[1,1,1,1,100,100,0,0.5,0.5]`},
		{"large and small doubles use exponents like ECMAScript", `[1e21,1.5e-7,123456789012345680000]`, `[1e+21,1.5e-7,123456789012345680000]`},
		{"integers beyond 2^53 keep every digit", `[9007199254740993,9007199254740992]`, `[9007199254740993,9007199254740992]`},
		{"strings are not HTML-escaped", `{"s":"<a&b>"}`, `{"s":"<a&b>"}`},
		{"escapes are minimal", `{"s":"\u0041\n\"\\"}`, `{"s":"A\n\"\\"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CanonicalJSON(json.RawMessage(tc.in))
			if err != nil || string(got) != tc.want {
				t.Errorf("CanonicalJSON(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`{"a":`, `{} {}`, `[1e999]`} {
		if _, err := CanonicalJSON(json.RawMessage(bad)); err == nil {
			t.Errorf("CanonicalJSON(%s): no error", bad)
		}
	}
}

func TestArgsHashTellsCallsApart(t *testing.T) {
	same := [][2]string{
		{`{"a":1,"b":"x"}`, `{ "b": "x", "a": 1.0 }`},
		{``, `{}`},
	}
	for _, p := range same {
		h1, _ := ArgsHash(json.RawMessage(p[0]))
		h2, _ := ArgsHash(json.RawMessage(p[1]))
		if h1 == "" || h1 != h2 {
			t.Errorf("%s and %s hash apart: %s %s", p[0], p[1], h1, h2)
		}
	}
	differ := [][2]string{
		{`{"amount":100}`, `{"amount":1000}`},
		{`{"amount":100}`, `{"amount":"100"}`},
		{`{"a":9007199254740993}`, `{"a":9007199254740992}`},
		{`{"to":"ann"}`, `{"to":"ann","cc":"eve"}`},
		{`{"a":[1,2]}`, `{"a":[2,1]}`},
	}
	for _, p := range differ {
		h1, _ := ArgsHash(json.RawMessage(p[0]))
		h2, _ := ArgsHash(json.RawMessage(p[1]))
		if h1 == h2 {
			t.Errorf("%s and %s hash alike", p[0], p[1])
		}
	}
}
