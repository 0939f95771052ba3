package toolguard

import (
	"encoding/json"

	"github.com/gatehouse-mcp/gatehouse/guards/parts"
)

// Mask is what replaces redacted text.
const Mask = parts.MaskText

// callResult is a tools/call result's members, read for its content.
type callResult map[string]json.RawMessage
