package admin

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// Analytics are computed from the audit log's tool.call entries over a
// window (default: the last 24 hours): exact counts and percentiles, no
// sampling. Prometheus (/metrics) carries the same counters continuously.

// latencySummary holds latency percentiles in milliseconds.
type latencySummary struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

type callStats struct {
	Calls     int            `json:"calls"`
	Errors    int            `json:"errors"`
	Denied    int            `json:"denied"`
	ErrorRate float64        `json:"error_rate"`
	Latency   latencySummary `json:"latency_ms"`
	Verdicts  map[string]int `json:"guard_verdicts"`
	latencies []float64
}

func (s *callStats) add(e *audit.Entry) {
	s.Calls++
	switch e.Outcome {
	case audit.OutcomeError:
		s.Errors++
	case audit.OutcomeDenied:
		s.Denied++
	}
	s.latencies = append(s.latencies, e.LatencyMS)
	for _, v := range e.Guards {
		if s.Verdicts == nil {
			s.Verdicts = map[string]int{}
		}
		s.Verdicts[v.Verdict]++
	}
}

func (s *callStats) finish() {
	if s.Calls > 0 {
		s.ErrorRate = math.Round(float64(s.Errors)/float64(s.Calls)*10000) / 10000
	}
	if s.Verdicts == nil {
		s.Verdicts = map[string]int{}
	}
	slices.Sort(s.latencies)
	s.Latency = latencySummary{P50: percentile(s.latencies, .50), P95: percentile(s.latencies, .95), P99: percentile(s.latencies, .99)}
	if n := len(s.latencies); n > 0 {
		s.Latency.Max = s.latencies[n-1]
	}
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

type toolStats struct {
	Tool string `json:"tool"`
	callStats
}

type connectorStats struct {
	Connector string `json:"connector"`
	callStats
	Tools []*toolStats `json:"tools"`
	tools map[string]*toolStats
}

func (a *API) routeAnalytics(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if method != fasthttp.MethodGet || len(rest) != 0 {
		methodNotAllowed(ctx, method)
		return
	}
	if !a.allow(ctx, p, policy.ResAnalytics, policy.ActRead) {
		return
	}
	f, ok := a.auditFilter(ctx, 0)
	if !ok {
		return
	}
	if f.From.IsZero() {
		f.From = a.Now().Add(-24 * time.Hour)
	}
	if f.To.IsZero() {
		f.To = a.Now().Add(time.Second)
	}
	// The window is analysed whole: list parameters do not apply.
	f.Action, f.Actor, f.Outcome, f.After, f.Limit = audit.ActionToolCall, "", "", "", 0
	see := a.seeDetails(p)
	byConn := map[string]*connectorStats{}
	var total callStats
	err := a.Audit.Query(detach(ctx), f, func(e *audit.Entry) (bool, error) {
		cs := byConn[e.Connector]
		if cs == nil {
			cs = &connectorStats{Connector: e.Connector, tools: map[string]*toolStats{}}
			byConn[e.Connector] = cs
		}
		cs.add(e)
		total.add(e)
		tool := e.Tool
		if !see(e) {
			tool = audit.Redacted
		}
		ts := cs.tools[tool]
		if ts == nil {
			ts = &toolStats{Tool: tool}
			cs.tools[tool] = ts
		}
		ts.add(e)
		return true, nil
	})
	if err != nil {
		a.internal(ctx, err)
		return
	}
	out := make([]*connectorStats, 0, len(byConn))
	for _, cs := range byConn {
		cs.finish()
		for _, ts := range cs.tools {
			ts.finish()
			cs.Tools = append(cs.Tools, ts)
		}
		sort.Slice(cs.Tools, func(i, j int) bool { return cs.Tools[i].Tool < cs.Tools[j].Tool })
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Connector < out[j].Connector })
	total.finish()
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"from": f.From, "to": f.To, "total": total, "connectors": out})
}
