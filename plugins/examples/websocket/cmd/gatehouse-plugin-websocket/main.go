// Command gatehouse-plugin-websocket is the WebSocket MCP transport plugin.
// The gateway starts it; run by hand it says so and exits.
package main

import (
	"github.com/gatehouse-mcp/gatehouse/plugins/examples/websocket"
	"github.com/gatehouse-mcp/gatehouse/sdk/plugin"
)

func main() { plugin.ServeTransport(websocket.Transport{}) }
