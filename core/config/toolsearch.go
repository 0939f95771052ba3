package config

// ToolSearchConfig turns on tool search (progressive disclosure, see
// docs/tool-search.md): an endpoint offers two meta-tools, search_tools
// (a query → the best-matching tools the caller may use, with their
// schemas) and call_tool (a tool's name and arguments → the real call,
// through every check of a direct call), instead of its full tools/list.
// Off by default: tools/list is the full list.
type ToolSearchConfig struct {
	// Aggregate offers the meta-tools on the aggregate endpoint /mcp
	// (and legacy /sse), searching every connector the caller may use.
	Aggregate bool `yaml:"aggregate"`
	// Connectors is the default for /mcp/{slug}; a connector's
	// advanced.tool_search overrides it either way.
	Connectors bool `yaml:"connectors"`
}
