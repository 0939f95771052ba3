package proxy

import (
	"context"
	"net/http"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// UpstreamAuth supplies the Authorization header of a user's requests to
// a connector (core/upstreamauth.Service implements it): "" when the
// connector's upstream needs none; an *mcp.Error naming a connect link
// when the user has not connected.
type UpstreamAuth interface {
	Authorization(ctx context.Context, c *connector.Connector, user string) (string, error)
}

// hasAuthorization reports whether the connector's own headers already
// authenticate (an auto connector with an API key header is not probed).
func hasAuthorization(h map[string]string) bool {
	for k := range h {
		if http.CanonicalHeaderKey(k) == "Authorization" {
			return true
		}
	}
	return false
}
