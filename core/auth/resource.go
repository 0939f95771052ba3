package auth

import "context"

type requestPathKey struct{}

// WithRequestPath tells the providers which endpoint a credential is
// presented to: an OAuth access token is valid only for the MCP endpoint
// its audience names (RFC 8707), so the provider needs the path.
func WithRequestPath(ctx context.Context, path string) context.Context {
	return context.WithValue(ctx, requestPathKey{}, path)
}

// RequestPath is the path WithRequestPath put in ctx, or "".
func RequestPath(ctx context.Context) string {
	p, _ := ctx.Value(requestPathKey{}).(string)
	return p
}

// StepUpError is a refusal that more authority would cure (RFC 6750
// insufficient_scope): the server answers 403 with Challenge as the
// WWW-Authenticate value rather than 401.
type StepUpError struct {
	// Challenge is the WWW-Authenticate value naming the scope needed.
	Challenge string
	// Reason says what is missing, for the response body and the logs.
	Reason string
}

func (e *StepUpError) Error() string { return "insufficient scope: " + e.Reason }
