package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// auditFilterFlags are the audit log filters; the server parses the times
// (RFC 3339, a duration back from now such as 24h, or Unix seconds).
type auditFilterFlags struct {
	from, to, actor, connector, action, outcome string
}

func (a *auditFilterFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&a.from, "from", "", "from this time: RFC 3339, or a duration back from now (24h)")
	fl.StringVar(&a.to, "to", "", "until this time: RFC 3339, or a duration back from now")
	fl.StringVar(&a.actor, "actor", "", "only this user's actions")
	fl.StringVar(&a.connector, "connector", "", "only this connector")
	fl.StringVar(&a.action, "action", "", "only this action (tool.call, connector.update, ...)")
	fl.StringVar(&a.outcome, "outcome", "", "only this outcome: "+strings.Join(audit.Outcomes, ", "))
}

// check refuses filter values the log never holds, naming the allowed ones.
func (a *auditFilterFlags) check() error {
	return oneOf("outcome", a.outcome, audit.Outcomes...)
}

func (a *auditFilterFlags) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"from": a.from, "to": a.to, "actor": a.actor, "connector": a.connector, "action": a.action, "outcome": a.outcome} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// auditEntryView is the part of an audit entry the table shows.
type auditEntryView struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Connector string    `json:"connector"`
	Tool      string    `json:"tool"`
	Outcome   string    `json:"outcome"`
	Error     string    `json:"error"`
	LatencyMS float64   `json:"latency_ms"`
}

func newAuditCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("audit", "Query and export the audit log", getenv)
	cmd.AddCommand(newAuditQueryCommand(f), newAuditExportCommand(f))
	return cmd
}

func newAuditQueryCommand(f *adminFlags) *cobra.Command {
	var filter auditFilterFlags
	var pages pageFlags
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Show audit entries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := filter.check(); err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			ans, err := c.list(cmd.Context(), "/audit", filter.query(), "entries", pages)
			if err != nil {
				return err
			}
			return printList(pr, ans, []string{"TIME", "ACTOR", "ACTION", "TARGET", "TOOL", "OUTCOME", "LATENCY MS", "ERROR"},
				func(e auditEntryView) []string {
					target := e.Target
					if target == "" {
						target = e.Connector
					}
					latency := ""
					if e.LatencyMS > 0 {
						latency = fmt.Sprintf("%.1f", e.LatencyMS)
					}
					return []string{fmtTime(e.Time), e.Actor, e.Action, target, e.Tool, e.Outcome, latency, e.Error}
				})
		},
	}
	filter.register(cmd)
	pages.register(cmd)
	return cmd
}

func newAuditExportCommand(f *adminFlags) *cobra.Command {
	var filter auditFilterFlags
	var output string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export matching audit entries as JSON Lines",
		Long: "Export every matching audit entry as JSON Lines, to stdout or to -o FILE\n" +
			"(written whole or not at all, readable only by you).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := filter.check(); err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			r := apiRequest{method: "GET", path: "/audit/export", query: filter.query()}
			if output == "" || output == "-" {
				_, err := exportTo(cmd.Context(), c, r, cmd.OutOrStdout())
				return err
			}
			n, err := exportToFile(cmd.Context(), c, r, output)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "exported %d entries to %s\n", n, output)
			return err
		},
	}
	filter.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// exportTo streams the export into w and returns the number of entries.
func exportTo(ctx context.Context, c *adminClient, r apiRequest, w io.Writer) (int, error) {
	body, err := c.stream(ctx, r)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	lc := &lineCounter{w: w}
	if _, err := io.Copy(lc, body); err != nil {
		return lc.lines, fmt.Errorf("audit export: %w", err)
	}
	return lc.lines, nil
}

// exportToFile writes the export to a temporary file beside path and
// renames it into place once complete, so a failed export leaves no
// truncated file that looks whole.
func exportToFile(ctx context.Context, c *adminClient, r apiRequest, path string) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("audit export: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	n, err := exportTo(ctx, c, r, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("audit export: %w", cerr)
	}
	if err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("audit export: %w", err)
	}
	return n, nil
}

// lineCounter passes writes through, counting newlines (one per entry).
type lineCounter struct {
	w     io.Writer
	lines int
}

func (l *lineCounter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	l.lines += bytes.Count(p[:n], []byte{'\n'})
	return n, err
}
