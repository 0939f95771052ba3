// Package metrics exposes the gateway's Prometheus metrics. Everything
// hangs off one Registry per gateway (no global registry), fed by audit
// entries: tool calls, their latency and guard verdicts, admin actions.
package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// Tool labels that stand for many tools, so that the names clients send
// cannot mint label values (each would be a series kept for good).
const (
	// UnlistedTool labels calls to tools never seen in their connector's
	// listings.
	UnlistedTool = "_unlisted"
	// OtherTool labels calls to a connector's tools beyond its first
	// Options.ToolLabelsPerConnector.
	OtherTool = "_other"
)

// DetailUnlisted is the audit entry detail (true) marking a call to a
// tool never seen in its connector's listings.
const DetailUnlisted = "unlisted"

// DefaultToolLabelsPerConnector is the bound on one connector's tool labels
// when Options leave it zero.
const DefaultToolLabelsPerConnector = 512

// Options tune the metrics.
type Options struct {
	// ToolLabelsPerConnector bounds the distinct tool labels of one
	// connector (zero: DefaultToolLabelsPerConnector); further tools are
	// counted as OtherTool.
	ToolLabelsPerConnector int
}

// Metrics holds the gateway's collectors.
type Metrics struct {
	reg           *prometheus.Registry
	toolCalls     *prometheus.CounterVec
	toolLatency   *prometheus.HistogramVec
	guardVerdicts *prometheus.CounterVec
	adminActions  *prometheus.CounterVec
	handler       fasthttp.RequestHandler

	maxToolLabels int
	mu            sync.Mutex
	toolLabels    map[string]map[string]bool // connector → tools labelled by name
}

// New returns the metrics with Go runtime and process collectors.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), maxToolLabels: opts.ToolLabelsPerConnector, toolLabels: map[string]map[string]bool{}}
	if m.maxToolLabels <= 0 {
		m.maxToolLabels = DefaultToolLabelsPerConnector
	}
	m.toolCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_tool_calls_total", Help: "tools/call requests proxied, by connector, tool and outcome.",
	}, []string{"connector", "tool", "outcome"})
	m.toolLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gatehouse_tool_call_duration_seconds", Help: "Time from a tools/call reaching the gateway to its answer.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"connector"})
	m.guardVerdicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_guard_verdicts_total", Help: "ToolGuard verdicts on tool calls, by connector, guard and verdict.",
	}, []string{"connector", "guard", "verdict"})
	m.adminActions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_admin_actions_total", Help: "Audited admin actions, by action and outcome.",
	}, []string{"action", "outcome"})
	m.reg.MustRegister(m.toolCalls, m.toolLatency, m.guardVerdicts, m.adminActions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return m
}

// Observe counts an audit entry once it is durable (an audit.Log observer).
// Sensitive connectors' tool names are not exported as labels.
func (m *Metrics) Observe(e *audit.Entry) {
	if e.Action != audit.ActionToolCall {
		m.adminActions.WithLabelValues(e.Action, e.Outcome).Inc()
		return
	}
	m.toolCalls.WithLabelValues(e.Connector, m.toolLabel(e), e.Outcome).Inc()
	m.toolLatency.WithLabelValues(e.Connector).Observe(e.LatencyMS / 1000)
	for _, v := range e.Guards {
		m.guardVerdicts.WithLabelValues(e.Connector, v.Guard, v.Verdict).Inc()
	}
}

// toolLabel is the tool label of a call: its name for a listed tool of a
// connector with label room left, else the bucket it falls in.
func (m *Metrics) toolLabel(e *audit.Entry) string {
	if e.Sensitive {
		return audit.Redacted
	}
	if unlisted, _ := e.Details[DetailUnlisted].(bool); unlisted {
		return UnlistedTool
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	named := m.toolLabels[e.Connector]
	switch {
	case named[e.Tool]:
	case len(named) >= m.maxToolLabels:
		return OtherTool
	case named == nil:
		m.toolLabels[e.Connector] = map[string]bool{e.Tool: true}
	default:
		named[e.Tool] = true
	}
	return e.Tool
}

// Serve answers GET /metrics in the Prometheus text format.
func (m *Metrics) Serve(ctx *fasthttp.RequestCtx) { m.handler(ctx) }
