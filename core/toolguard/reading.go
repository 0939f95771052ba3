package toolguard

import (
	"bytes"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
)

// Reading is what the guards read of one call's request, kept beside the
// call (the pipeline's exchange holds one) so the answer phase does not
// read it again: the params (name, arguments raw and decoded) and the
// rules' view of the arguments — their strings, keyword scans and
// credential matches. Reading again what it already holds is always
// right: the params are re-read when the request is not the one they
// were read from, and the view recomputes anything whose input differs
// (rules.View), so sharing never changes a verdict. The zero value is
// empty; a nil *Reading keeps nothing.
type Reading struct {
	read   bool // params holds what req's raw params read as
	req    *mcp.Message
	raw    []byte
	params callParams
	strict bool
	view   *rules.View
}

// callParams is readCallParams(req.Params), read once per request.
func (r *Reading) callParams(req *mcp.Message) (callParams, bool) {
	if r != nil && r.read && r.req == req && bytes.Equal(r.raw, req.Params) {
		return r.params, r.strict
	}
	p, ok := readCallParams(req.Params)
	if r != nil {
		*r = Reading{read: true, req: req, raw: req.Params, params: p, strict: ok, view: r.view}
	}
	return p, ok
}

// rulesView is the view the reading's phases share (a new one without a
// reading).
func (r *Reading) rulesView() *rules.View {
	if r == nil {
		return rules.NewView()
	}
	if r.view == nil {
		r.view = rules.NewView()
	}
	return r.view
}
