package eval

// Folder is the corpus folder the row was loaded from (mcp-tools,
// command-injection, npm-tools, …).
func (r Row) Folder() string { return r.folder }
