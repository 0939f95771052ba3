package access

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSchemasRelearnAndLimits(t *testing.T) {
	s := NewSchemas()
	validate := func(raw string) error {
		args, err := decodeArgs(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		return s.Validate("c", "t", args)
	}
	learn := func(schema string) {
		s.Learn("c", json.RawMessage(`{"tools":[{"name":"t","inputSchema":`+schema+`}]}`))
	}
	learn(`{"type":"object","properties":{"n":{"type":"integer"}}}`)
	if err := validate(`{"n":"x"}`); err == nil {
		t.Fatal("a string for an integer passed")
	}
	learn(`{"type":"object","properties":{"n":{"type":"string"}}}`)
	if err := validate(`{"n":"x"}`); err != nil {
		t.Fatalf("the changed schema was not relearnt: %v", err)
	}
	if err := s.Validate("c", "t", nil); err != nil {
		t.Errorf("absent arguments are an empty object: %v", err)
	}
	big := `{"type":"object","description":"` + strings.Repeat("x", maxSchemaBytes) + `"}`
	learn(big)
	if err := validate(`{}`); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("an oversized schema: %v", err)
	}
	s.Forget("c")
	if err := validate(`{}`); !errors.Is(err, ErrNoSchema) {
		t.Errorf("after Forget: %v", err)
	}
	var inv *InvalidArguments
	learn(`{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"enum":["x","y"]}}}}}`)
	if err := validate(`{"a":{"b":"z"}}`); !errors.As(err, &inv) || inv.Location != "/a/b" {
		t.Errorf("a nested violation: %v", err)
	}
}
