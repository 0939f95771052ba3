package proxy

import "github.com/gatehouse-mcp/gatehouse/core/auth"

// principalOf rebuilds the principal a session belongs to, for visibility
// checks on later requests (only the user name matters for them).
func principalOf(user string) auth.Principal { return auth.Principal{User: user} }
