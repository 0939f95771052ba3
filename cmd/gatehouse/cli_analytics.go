package main

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// callStatsView is one analytics row: tool calls and their latency.
type callStatsView struct {
	Calls     int     `json:"calls"`
	Errors    int     `json:"errors"`
	Denied    int     `json:"denied"`
	ErrorRate float64 `json:"error_rate"`
	Latency   struct {
		P50 float64 `json:"p50"`
		P95 float64 `json:"p95"`
		P99 float64 `json:"p99"`
	} `json:"latency_ms"`
}

func (s callStatsView) row(connector, tool string) []string {
	ms := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	return []string{connector, tool, strconv.Itoa(s.Calls), strconv.Itoa(s.Errors), strconv.Itoa(s.Denied),
		fmt.Sprintf("%.2f%%", s.ErrorRate*100), ms(s.Latency.P50), ms(s.Latency.P95), ms(s.Latency.P99)}
}

// analyticsView is the answer of GET /analytics.
type analyticsView struct {
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	Total      callStatsView `json:"total"`
	Connectors []struct {
		Connector string `json:"connector"`
		callStatsView
		Tools []struct {
			Tool string `json:"tool"`
			callStatsView
		} `json:"tools"`
	} `json:"connectors"`
}

func newAnalyticsCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("analytics", "Tool-call counts, error rates and latency per connector and tool", getenv)
	var from, to, connector string
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, pr, err := f.setup(cmd)
		if err != nil {
			return err
		}
		q := url.Values{}
		for k, v := range map[string]string{"from": from, "to": to, "connector": connector} {
			if v != "" {
				q.Set(k, v)
			}
		}
		var a analyticsView
		raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/analytics", query: q}, &a)
		if err != nil {
			return err
		}
		if pr.json {
			return pr.printJSON(raw)
		}
		if err := pr.line("from %s to %s", fmtTime(a.From), fmtTime(a.To)); err != nil {
			return err
		}
		var rows [][]string
		for _, cs := range a.Connectors {
			rows = append(rows, cs.row(cs.Connector, "*"))
			for _, ts := range cs.Tools {
				rows = append(rows, ts.row(cs.Connector, ts.Tool))
			}
		}
		rows = append(rows, a.Total.row("TOTAL", ""))
		return pr.table([]string{"CONNECTOR", "TOOL", "CALLS", "ERRORS", "DENIED", "ERROR RATE", "P50 MS", "P95 MS", "P99 MS"}, rows)
	}
	cmd.Flags().StringVar(&from, "from", "", "from this time: RFC 3339 or a duration back from now (default 24h)")
	cmd.Flags().StringVar(&to, "to", "", "until this time (default now)")
	cmd.Flags().StringVar(&connector, "connector", "", "only this connector")
	return cmd
}
