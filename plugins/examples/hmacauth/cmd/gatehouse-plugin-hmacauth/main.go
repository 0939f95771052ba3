// Command gatehouse-plugin-hmacauth is the HMAC-signed request auth
// plugin. The gateway starts it; settings keys_file and max_skew come from
// plugins.list[].settings.
package main

import (
	"fmt"
	"os"

	"github.com/gatehouse-mcp/gatehouse/plugins/examples/hmacauth"
	"github.com/gatehouse-mcp/gatehouse/sdk/plugin"
)

func main() {
	settings, err := plugin.Settings()
	if err == nil {
		var a *hmacauth.Authenticator
		if a, err = hmacauth.FromSettings(settings); err == nil {
			plugin.ServeAuth(a)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "gatehouse-plugin-hmacauth:", err)
	os.Exit(1)
}
