package admin

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// BenchmarkListConnectors10k is GET /admin/v1/connectors?query=… over
// 10 000 connectors as a member sees them: search, visibility, the first
// page of 100 rendered as JSON.
func BenchmarkListConnectors10k(b *testing.B) {
	f := newFixture(b)
	for i := range 10000 {
		f.registry.Put(&connector.Connector{
			Slug: fmt.Sprintf("conn-%05d", i), Name: fmt.Sprintf("Connector %d", i),
			Description: fmt.Sprintf("Project %d documents and reports", i), Status: connector.StatusActive,
			Transport: connector.TransportStreamableHTTP, URL: "https://example.com/mcp", Hosting: connector.HostingHosted,
			Auth: connector.Auth{Kind: connector.AuthNone}, Owner: "ada",
		})
	}
	for _, q := range []string{"project 4242", "reports"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				ctx := f.raw(b, member, http.MethodGet, "/connectors?query="+q, "")
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("HTTP %d", ctx.Response.StatusCode())
				}
			}
		})
	}
}
