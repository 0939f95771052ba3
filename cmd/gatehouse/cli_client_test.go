package main

import (
	"reflect"
	"testing"
)

func TestAPIErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  APIError
		want string
	}{
		{"names the field when there is one",
			APIError{Status: 422, Code: "invalid_field", Message: "name: is required", Field: "name"},
			"HTTP 422 invalid_field: name: is required (field name)"},
		{"omits the field when there is none",
			APIError{Status: 404, Code: "not_found", Message: `user "bob" not found`},
			`HTTP 404 not_found: user "bob" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeAPIError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   APIError
	}{
		{"reads the API's error body", 409, `{"error":{"code":"conflict","message":"taken","field":"slug"}}`,
			APIError{Status: 409, Code: "conflict", Message: "taken", Field: "slug"}},
		{"keeps a foreign body as the message", 502, "<html>bad gateway</html>",
			APIError{Status: 502, Code: "unexpected_answer", Message: "<html>bad gateway</html>"}},
		{"falls back on the status text for an empty body", 503, "",
			APIError{Status: 503, Code: "unexpected_answer", Message: "Service Unavailable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeAPIError(tc.status, []byte(tc.body)); *got != tc.want {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestParseKV(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    map[string]string
		wantErr bool
	}{
		{"splits at the first =", []string{"A=1", "B=x=y", "C="}, map[string]string{"A": "1", "B": "x=y", "C": ""}, false},
		{"nothing given is nil", nil, nil, false},
		{"refuses a pair without =", []string{"A"}, nil, true},
		{"refuses an empty key", []string{"=v"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKV(tc.in, "value")
			if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestIfMatchHeader(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		wantErr  bool
	}{
		{"7", `"7"`, false},
		{`"7"`, `"7"`, false},
		{`W/"7"`, `W/"7"`, false},
		{"", "", false},
		{"seven", "", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ifMatchHeader(tc.in)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("got %q, %v", got, err)
			}
		})
	}
}

func TestPathOf(t *testing.T) {
	if got := pathOf("users", "a/b c", "x"); got != "/users/a%2Fb%20c/x" {
		t.Errorf("got %q", got)
	}
}
