package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/valyala/fasthttp"
)

// contract checks admin API exchanges against admin/openapi.json with
// libopenapi-validator, a real OpenAPI 3.1 validator: every answer the
// tests provoke must be one the document describes.
type contract struct {
	v validator.Validator
}

func newContract(t testing.TB) *contract {
	t.Helper()
	doc, err := libopenapi.NewDocument(OpenAPI())
	if err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("openapi.json: %v", errs)
	}
	return &contract{v: v}
}

// check validates one exchange: always the response; the request too when
// the server accepted it (tests send invalid requests on purpose).
func (c *contract) check(t testing.TB, ctx *fasthttp.RequestCtx) {
	t.Helper()
	ct := string(ctx.Response.Header.ContentType())
	if ctx.Response.IsBodyStream() || strings.HasPrefix(ct, "application/x-ndjson") {
		return // streamed exports are checked by content, line by line
	}
	if ctx.Response.StatusCode() == fasthttp.StatusMethodNotAllowed {
		// A method the document does not list for the path: nothing to
		// match, but the body must still be the API's error shape.
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(ctx.Response.Body(), &e) != nil || e.Error.Code != "method_not_allowed" || e.Error.Message == "" {
			t.Errorf("405 body %q is not the error shape", ctx.Response.Body())
		}
		return
	}
	uri := ctx.Request.URI()
	req, err := http.NewRequest(string(ctx.Method()), "http://gatehouse"+string(uri.RequestURI()), bytes.NewReader(ctx.Request.Body()))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range ctx.Request.Header.All() {
		req.Header.Add(string(k), string(v))
	}
	// The gateway authenticates before the admin API runs; the handlers
	// under test get the principal directly.
	req.Header.Set("Authorization", "Bearer gth_contract")
	if len(ctx.Request.Body()) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp := &http.Response{StatusCode: ctx.Response.StatusCode(), Header: http.Header{}, Request: req,
		Body: io.NopCloser(bytes.NewReader(ctx.Response.Body()))}
	for k, v := range ctx.Response.Header.All() {
		resp.Header.Add(string(k), string(v))
	}
	var ok bool
	var errs []*validationError
	if resp.StatusCode < 400 {
		okAll, verrs := c.v.ValidateHttpRequestResponse(req, resp)
		ok, errs = okAll, wrap(verrs)
	} else {
		okResp, verrs := c.v.ValidateHttpResponse(req, resp)
		ok, errs = okResp, wrap(verrs)
	}
	if !ok {
		var b strings.Builder
		for _, e := range errs {
			fmt.Fprintf(&b, "\n  - %s", e)
		}
		t.Errorf("%s %s → %d does not match admin/openapi.json:%s\n  body: %.300s", ctx.Method(), uri.RequestURI(), resp.StatusCode, b.String(), ctx.Response.Body())
	}
}

type validationError struct{ msg string }

func (e *validationError) String() string { return e.msg }

func wrap[E interface{ Error() string }](in []E) []*validationError {
	out := make([]*validationError, len(in))
	for i, e := range in {
		out[i] = &validationError{msg: e.Error()}
	}
	return out
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	c := newContract(t)
	if ok, errs := c.v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("%s", e.Error())
		}
	}
	doc, _ := libopenapi.NewDocument(OpenAPI())
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	if v := model.Model.Version; !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi %q, want 3.1", v)
	}
	// Every route the router serves is described.
	for _, p := range []string{"/connectors", "/connectors/{slug}", "/connectors/{slug}/credentials", "/connectors/{slug}/setup",
		"/users", "/users/{id}", "/tokens", "/tokens/{id}", "/roles", "/me", "/catalog", "/catalog/{id}", "/catalog/{id}/connectors",
		"/requests", "/requests/{id}", "/requests/{id}/approve", "/requests/{id}/reject", "/audit", "/audit/export", "/analytics",
		"/approvals", "/approvals/{id}", "/approvals/{id}/approve", "/approvals/{id}/deny",
		"/groups", "/groups/{name}", "/roles/{role}"} {
		if _, ok := model.Model.Paths.PathItems.Get(p); !ok {
			t.Errorf("openapi.json does not describe %s", p)
		}
	}
}

// TestContractCatchesADrift proves the contract check can fail: against a
// document that demands a field the API does not send, the same exchange
// the suite makes is reported.
func TestContractCatchesADrift(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	errSchema := schemas["Error"].(map[string]any)
	errSchema["required"] = append(toAnySlice(errSchema["required"]), "no_such_field")
	errSchema["properties"].(map[string]any)["no_such_field"] = map[string]any{"type": "string"}
	drifted, _ := json.Marshal(doc)
	ldoc, err := libopenapi.NewDocument(drifted)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(ldoc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	f := newFixture(t)
	f.contract = nil
	ctx := f.raw(t, member, http.MethodGet, "/connectors/nope", "")
	rec := &recordingTB{TB: t}
	(&contract{v: v}).check(rec, ctx)
	if !rec.failed {
		t.Error("a response missing a required field passed the contract check")
	}
}

func toAnySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// recordingTB notes failures instead of failing the test.
type recordingTB struct {
	testing.TB
	failed bool
}

func (r *recordingTB) Errorf(string, ...any) { r.failed = true }
func (r *recordingTB) Helper()               {}
