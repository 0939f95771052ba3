package toolguard

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// nativeSafe reports whether the native rules see in exactly as a guest
// would after the envelope's JSON round trip: every string valid UTF-8
// (encoding replaces invalid bytes) and every raw JSON member valid by
// the guest decoder's rules (RFC 7493: UTF-8, no duplicate member names),
// on which the guest's decoding fails and the guard errs. When in is not
// safe, the guests run and decide alone. argsValid says in.Arguments is
// known valid already (decodeStrict accepted it) and is not checked again;
// outputValid says the same of in.Output's text and part paths (laid out
// whole from strings decodeStrict accepted).
func nativeSafe(in *guard.Input, argsValid, outputValid bool) bool {
	if !validStrings(in.RequestID, in.Connector.ID, in.Connector.Name, in.Method) || !argsValid && !validRaw(in.Arguments) {
		return false
	}
	if t := in.Tool; t != nil && !validStrings(t.Name, t.Description) {
		return false
	}
	if o := in.Output; o != nil {
		if !validRaw(o.Content) {
			return false
		}
		if !outputValid && !validStrings(o.Text) {
			return false
		}
		for _, p := range o.Parts {
			if !outputValid && !validStrings(p.Path) {
				return false
			}
		}
	}
	for _, k := range in.Known {
		if !validStrings(k.Connector, k.Name) {
			return false
		}
	}
	for _, t := range in.Tools {
		if !validStrings(t.Name, t.Title, t.Description, t.PinnedHash) || !validRaw(t.InputSchema) || !validRaw(t.OutputSchema) || !validRaw(t.Annotations) {
			return false
		}
	}
	return true
}

func validStrings(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func validRaw(raw json.RawMessage) bool {
	return len(raw) == 0 || jsontext.Value(raw).IsValid()
}

// nativeClean runs a guard's native rules on in and reports a clean
// allow: no action, no score, no reason, no redaction. A panic in the
// rules is not clean (the guest then runs and its verdict applies).
func nativeClean(native func(string, *guard.Input) guard.Verdict, hook string, in *guard.Input) (clean bool) {
	defer func() {
		if recover() != nil {
			clean = false
		}
	}()
	v := native(hook, in)
	return v.Action == guard.ActionAllow && v.Score == 0 && len(v.Reasons) == 0 && len(v.Redactions) == 0
}
