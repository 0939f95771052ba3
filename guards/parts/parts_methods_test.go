package parts_test

import (
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/guards/parts"
)

func TestMethodNamesAgreeWithCoreMCP(t *testing.T) {
	for _, tc := range []struct{ here, core string }{
		{parts.MethodToolsCall, mcp.MethodToolsCall},
		{parts.MethodPromptsGet, mcp.MethodPromptsGet},
		{parts.MethodResourcesRead, mcp.MethodResourcesRead},
	} {
		if tc.here != tc.core {
			t.Errorf("parts names %q where core/mcp names %q", tc.here, tc.core)
		}
	}
}
