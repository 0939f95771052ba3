package admin

import (
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// routeGroups serves /groups (group membership and the roles groups
// hold); see the OpenAPI document.
func (a *API) routeGroups(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such admin endpoint", "")
}
