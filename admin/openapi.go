package admin

import _ "embed"

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the admin API's OpenAPI 3.1 document (admin/openapi.json,
// checked in; tests validate the API's answers against it).
func OpenAPI() []byte { return openAPIDoc }
