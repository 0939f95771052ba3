package proxy

import (
	"context"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
)

// CallRecord is the audit record of one finished tools/call.
type CallRecord = pipeline.Record

// eraStages are the stages that hold state for the protocol eras: schema
// learning, and the approval flows (the 2026-07-28 one keeps parked
// calls and continuations). Nil without tool policies.
type eraStages struct {
	schemas       *pipeline.Schemas
	approval      *pipeline.Approval
	inputRequired *pipeline.InputRequired
}

// newChain is the gateway's request chain: every request a client sends
// to a connector runs through these stages, whatever its path (a
// per-connector session, the aggregate's children, legacy SSE, either
// translation, the sessionless passthrough). Request halves run top to
// bottom, answer halves bottom to top; a stage this gateway has no
// dependency for is left out (its constructor returns nil). Adding a
// stage is its own file in core/pipeline and one line here.
func (p *Proxy) newChain() *pipeline.Chain {
	var listed func(context.Context, *connector.Connector, string) bool
	if p.opts.Tools != nil {
		listed = p.opts.Tools.Listed
	}
	var approvals func() *access.Approvals
	if p.opts.Access != nil {
		approvals = p.opts.Access.Approvals
	}
	e := p.stages
	return pipeline.New(
		// Outermost: its answer half sees every ending and makes the
		// call's audit record durable before the answer leaves
		// (metrics are counted from the audit log's entries).
		pipeline.NewAudit(p.opts.ObserveCall, listed, approvals, p.log),
		// Large tool outputs stored and linked: above the answer guards,
		// so its answer half runs after theirs (guards see the whole
		// output); its own links read back before the policy stage.
		pipeline.NewOffload(p.opts.Offload),
		// 2026-07-28 retries: a parked call's answer decides its approval;
		// an approved call's own input_required round trip continues it.
		stage(e.inputRequired),
		// Held tools (pins): a changed or flagged tool is refused.
		pipeline.NewHeld(p.opts.Tools),
		// Input schemas learnt before they are needed.
		stage(e.schemas),
		// Tool policies: deny, allow, or hold for an approval.
		pipeline.NewPolicy(p.opts.Access),
		// Arguments against the tool's input schema (answered by the gateway).
		pipeline.Validate{},
		// Approval: asked the era's way, or waited for; resumes from the top.
		stage(e.approval),
		// Pre-call guards: the guards' request hooks (gh_tool_request).
		pipeline.NewPreCall(p.opts.Guard),
		// Answer guards: Tool Call and Tool Intent chains on answers.
		pipeline.NewAnswerGuards(p.opts.Guard),
		// Listings narrowed: tool pins, then what the caller may use.
		pipeline.NewNarrow(p.opts.Tools, p.opts.Access, p.log),
		// The upstream is the era's: Chain.Run's last argument.
	)
}

// stage is s as a Stage, nil (left out) when s is a nil pointer.
func stage[T pipeline.Stage](s T) pipeline.Stage {
	var zero T
	if any(s) == any(zero) {
		return nil
	}
	return s
}

// newEraStages makes the stateful stages when tool policies apply.
func (p *Proxy) newEraStages() eraStages {
	if p.opts.Access == nil {
		return eraStages{}
	}
	ap := pipeline.NewApproval(p.opts.Access.Approvals())
	scan := func(ctx context.Context, slug string) error {
		_, err := p.ScanTools(ctx, slug)
		return err
	}
	return eraStages{
		schemas:       pipeline.NewSchemas(p.opts.Access.KnowsTool, scan, p.opts.CallTimeout, p.log),
		approval:      ap,
		inputRequired: pipeline.NewInputRequired(ap),
	}
}
