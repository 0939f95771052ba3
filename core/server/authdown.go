package server

import (
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"
)

// providerDown is an authentication error of a provider that could not
// decide (an auth plugin that is down, hung or answering garbage): the
// credential may be good, so the caller is told to retry, not to
// re-authenticate.
type providerDown interface {
	ProviderUnavailable() bool
}

// authUnavailable answers 503 for an error of a provider that could not
// decide and reports whether it did. The caller is never let in.
func authUnavailable(ctx *fasthttp.RequestCtx, err error) bool {
	var down providerDown
	if !errors.As(err, &down) || !down.ProviderUnavailable() {
		return false
	}
	ctx.Response.Header.Set("Retry-After", "1")
	ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(fmt.Sprintf(`{"error":{"code":"auth_unavailable","message":%q}}`,
		"authentication is unavailable: "+err.Error()+"; the request was not let in, retry shortly"))
	return true
}
