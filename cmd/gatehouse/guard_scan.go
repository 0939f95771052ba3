package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func newGuardScanCommand() *cobra.Command {
	var module, server, token, sensitivity string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "scan URL|CONNECTOR",
		Short: "Run the Tool List Guard on a live MCP server's tools",
		Long: `Connects to an MCP server over Streamable HTTP (a URL), or to a connector
through the gateway (a slug: --server and --token, default GATEHOUSE_URL and
GATEHOUSE_TOKEN), lists its tools and runs the Tool List Guard on them (the
built-in one, or --module). Exits non-zero when the guard would block.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			threshold, ok := toolguard.Level(sensitivity)
			if !ok {
				return fmt.Errorf("--sensitivity %q is not one of low, medium, high, paranoid", sensitivity)
			}
			target := args[0]
			if token == "" {
				token = os.Getenv("GATEHOUSE_TOKEN")
			}
			if !strings.Contains(target, "://") {
				// A connector: the gateway lists and scans it with its own
				// chain and pins, and reports what it holds back.
				if server == "" {
					server = os.Getenv("GATEHOUSE_URL")
				}
				if server == "" {
					server = defaultServer
				}
				return runConnectorScan(cmd.Context(), cmd.OutOrStdout(), newAdminClient(strings.TrimRight(server, "/"), token), target, asJSON)
			}
			return runGuardScan(cmd.Context(), cmd.OutOrStdout(), target, token, module, sensitivity, threshold, asJSON)
		},
	}
	cmd.Flags().StringVar(&module, "module", "builtin:tool-list-guard", "guard module (MODULE.wasm or builtin:NAME)")
	cmd.Flags().StringVar(&server, "server", "", "gateway base URL for a connector slug (env GATEHOUSE_URL)")
	cmd.Flags().StringVar(&token, "token", "", "bearer token (env GATEHOUSE_TOKEN)")
	cmd.Flags().StringVar(&sensitivity, "sensitivity", "medium", "low, medium, high or paranoid")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verdict as JSON")
	return cmd
}

// bearer adds an Authorization header to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// listTools fetches every tool definition of the server at url.
func listTools(ctx context.Context, url, token string) ([]guard.Tool, error) {
	hc := &http.Client{Timeout: time.Minute}
	if token != "" {
		hc.Transport = bearer{token}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-guard-scan", Version: "1"}, nil)
	sess, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: hc}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", url, err)
	}
	defer sess.Close()
	var tools []guard.Tool
	for t, err := range sess.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("list tools: %w", err)
		}
		in, _ := json.Marshal(t.InputSchema)
		out, _ := json.Marshal(t.OutputSchema)
		ann, _ := json.Marshal(t.Annotations)
		gt := guard.Tool{Name: t.Name, Title: t.Title, Description: t.Description, InputSchema: in}
		if t.OutputSchema != nil {
			gt.OutputSchema = out
		}
		if t.Annotations != nil {
			gt.Annotations = ann
		}
		tools = append(tools, gt)
	}
	return tools, nil
}

func runGuardScan(ctx context.Context, w io.Writer, url, token, module, level string, threshold float64, asJSON bool) error {
	tools, err := listTools(ctx, url, token)
	if err != nil {
		return err
	}
	name, code, err := loadGuardCode(module)
	if err != nil {
		return err
	}
	h, err := host.New(ctx, host.Config{Interruptible: true, MemoryLimitPages: 2048, Log: zerolog.Nop()})
	if err != nil {
		return err
	}
	defer h.Close(context.Background())
	mod, err := h.Load(ctx, name, code, nil)
	if err != nil {
		return err
	}
	if !mod.Implements(guard.HookToolList) {
		return fmt.Errorf("guard %s has no tool_list hook", name)
	}
	data, _ := json.Marshal(&guard.Input{V: guard.ABIVersion, Hook: guard.HookToolList, Connector: guard.Connector{ID: url, Name: url},
		Sensitivity: guard.Sensitivity{Level: level, Threshold: threshold}, Tools: tools})
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := mod.Call(cctx, guard.HookToolList, data)
	if err != nil {
		return err
	}
	action := toolguard.Applied(v, threshold)
	if asJSON {
		out, _ := json.MarshalIndent(map[string]any{"url": url, "tools": len(tools), "action": action, "score": v.Score, "reasons": v.Reasons}, "", "  ")
		fmt.Fprintln(w, string(out))
	} else {
		fmt.Fprintf(w, "%s: %d tools, verdict %s (score %.2f)\n", url, len(tools), action, v.Score)
		if len(v.Reasons) > 0 {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TOOL\tCODE\tWHERE\tMESSAGE")
			for _, r := range v.Reasons {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Tool, r.Code, r.Path, truncate(r.Message, 90))
			}
			tw.Flush()
		}
	}
	if action == guard.ActionBlock {
		return errScanBlocked
	}
	return nil
}

// runConnectorScan asks the gateway to scan a connector's tools
// (POST /admin/v1/connectors/{slug}/tools/scan) and prints the tool states.
func runConnectorScan(ctx context.Context, w io.Writer, c *adminClient, slug string, asJSON bool) error {
	var scan struct {
		Connector string `json:"connector"`
		Tools     []struct {
			Name    string   `json:"name"`
			Status  string   `json:"status"`
			Verdict string   `json:"verdict"`
			Score   float64  `json:"score"`
			Reasons []string `json:"reasons"`
		} `json:"tools"`
	}
	raw, err := c.getJSON(ctx, apiRequest{method: http.MethodPost, path: pathOf("connectors", slug, "tools", "scan")}, &scan)
	if err != nil {
		return err
	}
	held := 0
	for _, t := range scan.Tools {
		if t.Status != "approved" {
			held++
		}
	}
	if asJSON {
		var v any
		_ = json.Unmarshal(raw, &v)
		out, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(w, string(out))
	} else {
		fmt.Fprintf(w, "connector %s: %d tools, %d held\n", slug, len(scan.Tools), held)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOOL\tSTATUS\tVERDICT\tSCORE\tREASONS")
		for _, t := range scan.Tools {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\n", t.Name, t.Status, t.Verdict, t.Score, truncate(strings.Join(t.Reasons, "; "), 90))
		}
		tw.Flush()
	}
	if held > 0 {
		return errScanBlocked
	}
	return nil
}

// errScanBlocked makes `guard scan` exit non-zero after its report.
var errScanBlocked = errors.New("the Tool List Guard blocks (or holds) some of these tools")
