package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/guards/builtin"
	"github.com/gatehouse-mcp/gatehouse/guards/fixture"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// newGuardCommand is `gatehouse guard`: tools for guard authors.
func newGuardCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "guard", Short: "Test ToolGuard modules and scan live servers", RunE: groupRunE}
	cmd.AddCommand(newGuardTestCommand(), newGuardScanCommand())
	return cmd
}

// errMismatch makes `guard test` exit non-zero after printing its report.
var errMismatch = errors.New("some fixtures did not get the verdict their label expects")

// errNothingJudged: every row was skipped, so the run proves nothing.
var errNothingJudged = errors.New("the guard implements none of the fixtures' hooks: nothing was judged")

func newGuardTestCommand() *cobra.Command {
	var asJSON bool
	var sensitivity string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "test MODULE.wasm|builtin:NAME FIXTURE.jsonl...",
		Short: "Run a guard on fixture files and check its verdicts against their labels",
		Long: `Runs the guard on every fixture line (tool rows through tool_list; call rows
through tool_call and tool_intent, whichever the guard implements; call rows
without a result through tool_request, the pre-call hook) with the
host's rules for actions at the given sensitivity, prints one verdict per
line and a summary, and exits non-zero when a malicious row is allowed or a
benign one is not. builtin:NAME runs a built-in guard (` + strings.Join(builtin.Names, ", ") + `).`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			threshold, ok := toolguard.Level(sensitivity)
			if !ok {
				return fmt.Errorf("--sensitivity %q is not one of low, medium, high, paranoid", sensitivity)
			}
			return runGuardTest(cmd.Context(), cmd.OutOrStdout(), args[0], args[1:], sensitivity, threshold, timeout, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, `print one JSON object per line: {"id","label","verdict","score","reasons"}`)
	cmd.Flags().StringVar(&sensitivity, "sensitivity", "medium", "low, medium, high or paranoid")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Second, "deadline for one guard call")
	return cmd
}

func loadGuardCode(spec string) (string, []byte, error) {
	if name, ok := strings.CutPrefix(spec, "builtin:"); ok {
		code, err := builtin.Module(name)
		return name, code, err
	}
	code, err := os.ReadFile(spec)
	if err != nil {
		return "", nil, fmt.Errorf("read guard module: %w", err)
	}
	name := strings.TrimSuffix(spec[strings.LastIndex(spec, "/")+1:], ".wasm")
	return name, code, nil
}

// testResult is one fixture's outcome, as --json prints it.
type testResult struct {
	ID      string   `json:"id"`
	Label   string   `json:"label"`
	Verdict string   `json:"verdict"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
	Error   string   `json:"error,omitempty"`
	Pass    bool     `json:"pass"`
	// Skipped: the guard implements none of the row's hooks (a 1.0 guard
	// on a request row); neither a pass nor a failure, and said so.
	Skipped bool `json:"skipped,omitempty"`
}

func runGuardTest(ctx context.Context, out io.Writer, spec string, files []string, level string, threshold float64, timeout time.Duration, asJSON bool) error {
	name, code, err := loadGuardCode(spec)
	if err != nil {
		return err
	}
	// The built-in guards' memory allowance, so fixtures the gateway would
	// scan fit here too.
	h, err := host.New(ctx, host.Config{Interruptible: true, MemoryLimitPages: 2048, Log: zerolog.Nop()})
	if err != nil {
		return err
	}
	defer h.Close(context.Background())
	mod, err := h.Load(ctx, name, code, nil)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "RESULT\tID\tLABEL\tVERDICT\tSCORE\tREASONS")
	}
	enc := json.NewEncoder(out)
	passed, failed, skipped := 0, 0, 0
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		rows, err := fixture.Read(f, file)
		f.Close()
		if err != nil {
			return err
		}
		for _, row := range rows {
			res := judgeRow(ctx, mod, &row, level, threshold, timeout)
			switch {
			case res.Skipped:
				skipped++
			case res.Pass:
				passed++
			default:
				failed++
			}
			if asJSON {
				_ = enc.Encode(res)
				continue
			}
			mark := "PASS"
			switch {
			case res.Skipped:
				mark = "SKIP"
			case !res.Pass:
				mark = "FAIL"
			}
			reasons := strings.Join(res.Reasons, "; ")
			switch {
			case res.Skipped:
				reasons = res.Error
			case res.Error != "":
				reasons = "error: " + res.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%s\n", mark, res.ID, res.Label, res.Verdict, res.Score, truncate(reasons, 100))
		}
	}
	if !asJSON {
		tw.Flush()
	}
	if skipped > 0 {
		fmt.Fprintf(out, "%d passed, %d failed, %d skipped (the guard implements none of their hooks)\n", passed, failed, skipped)
	} else {
		fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 {
		return errMismatch
	}
	if passed == 0 && skipped > 0 {
		return errNothingJudged
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// judgeRow runs the row's phase(s) and keeps the strongest action.
func judgeRow(ctx context.Context, mod *host.Module, row *fixture.Row, level string, threshold float64, timeout time.Duration) testResult {
	res := testResult{ID: row.ID, Label: row.Label, Verdict: guard.ActionAllow, Reasons: []string{}}
	in := row.Input()
	in.Sensitivity = guard.Sensitivity{Level: level, Threshold: threshold}
	hooks := row.Hooks()
	if !implementsAny(mod, hooks) {
		// A row the guard cannot judge is no pass (a 1.0 guard has no
		// request hook): say so rather than count its silence as allow.
		res.Skipped, res.Verdict = true, "skipped"
		res.Error = fmt.Sprintf("the guard implements none of this row's hooks (%s; it has %s)", strings.Join(hooks, ", "), strings.Join(mod.Hooks(), ", "))
		return res
	}
	for _, hook := range hooks {
		if !mod.Implements(hook) {
			continue
		}
		in.Hook = hook
		data, _ := json.Marshal(in)
		cctx, cancel := context.WithTimeout(ctx, timeout)
		v, err := mod.Call(cctx, hook, data)
		cancel()
		if err != nil {
			res.Error, res.Verdict = err.Error(), "error"
			break
		}
		action := toolguard.Applied(v, threshold)
		if guard.Rank(action) > guard.Rank(res.Verdict) {
			res.Verdict = action
		}
		res.Score = max(res.Score, v.Score)
		for _, r := range v.Reasons {
			res.Reasons = append(res.Reasons, r.Code)
		}
	}
	switch row.Label {
	case fixture.Malicious:
		res.Pass = res.Error == "" && res.Verdict != guard.ActionAllow
	case fixture.Benign:
		res.Pass = res.Error == "" && res.Verdict == guard.ActionAllow
	default:
		res.Pass = res.Error == ""
	}
	return res
}

func implementsAny(mod *host.Module, hooks []string) bool {
	for _, h := range hooks {
		if mod.Implements(h) {
			return true
		}
	}
	return false
}
