// Command guard-train fits the built-in guards' learned detectors on the
// dev splits and writes their weights into guards/builtin/model/weights
// (make guard-train). It prints out-of-fold dev figures (which set the
// threshold) and, for information only, test-split figures and the
// confound checks of docs/guard-eval.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatehouse-mcp/gatehouse/guards/eval"
	"github.com/gatehouse-mcp/gatehouse/guards/train"
)

func main() {
	corpora := flag.String("corpora", eval.DefaultCorpora("."), "directory of corpus folders (../shared/corpora)")
	out := flag.String("out", "guards/builtin/model/weights", "directory the weights files are written to")
	report := flag.Bool("report", true, "also print test-split figures and confound checks (not used for fitting)")
	flag.Parse()
	if err := run(*corpora, *out, *report); err != nil {
		fmt.Fprintln(os.Stderr, "guard-train:", err)
		os.Exit(1)
	}
}

func run(corpora, out string, report bool) error {
	rows, err := eval.LoadAll(corpora)
	if err != nil {
		return err
	}
	for _, job := range train.Jobs() {
		dev := job.Examples(rows, "dev")
		m, rep, err := train.Train(job.Config, dev)
		if err != nil {
			return fmt.Errorf("%s: %w", job.Name, err)
		}
		path := filepath.Join(out, job.Name+".bin")
		if err := os.WriteFile(path, m.Marshal(), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: dev %d malicious / %d benign; %d-fold grouped out-of-fold at threshold %.4f: recall %.1f %%, FPR %.2f %%; wrote %s (%d KiB)\n",
			job.Name, rep.Malicious, rep.Benign, job.Config.Folds, m.Threshold, 100*rep.OOFRecall, 100*rep.OOFFPR, path, len(m.Marshal())>>10)
		if report {
			train.WriteReport(os.Stdout, job, m, rows)
		}
	}
	return nil
}
