// Command guard-eval prints precision, recall and false-positive rate of
// the built-in guards on the labelled corpora (make guard-eval).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gatehouse-mcp/gatehouse/guards/eval"
)

func main() {
	corpora := flag.String("corpora", eval.DefaultCorpora("."), "directory of corpus folders (mcp-tools, tool-outputs, secrets, command-injection)")
	split := flag.String("split", "all", "which split to report: dev, test or all")
	threshold := flag.Float64("threshold", 0, "sensitivity threshold sent to the guards (0 = guard default 0.7)")
	explain := flag.Bool("explain", false, "also print each misclassified row with its reason codes (stderr)")
	confounds := flag.Bool("confounds", false, "measure the AUC of trivial features (description length, \"Args:\", shell metacharacters, base commands, …) on the corpora instead of judging")
	md := flag.Bool("md", false, "print the main table as Markdown (for README and docs) instead of text")
	native := flag.Bool("native", false, "judge with the rules compiled natively instead of the embedded WebAssembly modules (faster, same code)")
	request := flag.Bool("request", false, "judge call rows before the call (the tool_request hooks of the Tool Call and Tool Intent guards; tool and arguments, no output)")
	flag.Parse()
	opt := eval.Options{Threshold: *threshold, Markdown: *md, Request: *request}
	if *explain {
		opt.Explain = os.Stderr
	}
	switch *split {
	case "dev", "test":
		opt.Split = *split
	case "all":
	default:
		fmt.Fprintf(os.Stderr, "guard-eval: -split must be dev, test or all, not %q\n", *split)
		os.Exit(2)
	}
	if *confounds {
		rows, err := eval.LoadAll(*corpora)
		if err != nil {
			fmt.Fprintln(os.Stderr, "guard-eval:", err)
			os.Exit(1)
		}
		eval.WriteConfounds(os.Stdout, eval.MeasureConfounds(rows), eval.CountConfounds(rows, *corpora))
		return
	}
	judge, engine := eval.Judge(eval.NativeRules), "native rules"
	if !*native {
		j, closeFn, err := wasmJudge(context.Background(), *threshold)
		if err != nil {
			fmt.Fprintln(os.Stderr, "guard-eval:", err)
			os.Exit(1)
		}
		defer closeFn()
		judge, engine = j, "embedded WebAssembly modules"
	}
	start := time.Now()
	if err := eval.RunOptions(*corpora, judge, os.Stdout, opt); err != nil {
		fmt.Fprintln(os.Stderr, "guard-eval:", err)
		os.Exit(1)
	}
	fmt.Printf("\ncorpora: %s; split: %s; judged by: %s; elapsed: %s\n", *corpora, *split, engine, time.Since(start).Round(time.Millisecond))
}
