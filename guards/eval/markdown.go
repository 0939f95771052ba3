package eval

import (
	"fmt"
	"io"
)

// WriteMarkdown prints the main table as Markdown (for README and docs):
// one line per corpus, category and split, with the number of malicious
// and benign rows behind each figure and 95 % Wilson intervals. Lines
// with no malicious rows print recall and precision as "-".
func (res *Result) WriteMarkdown(w io.Writer) {
	fmt.Fprintln(w, "| corpus | category | split | malicious | benign | precision [95 % CI] | recall [95 % CI] | FPR [95 % CI] |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---|---|---|")
	for _, k := range sortedKeys(res.Cells) {
		c := res.Cells[k]
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %s | %s | %s |\n", k.Folder, k.Category, k.Split, c.TP+c.FN, c.FP+c.TN, c.Precision(), c.Recall(), c.FPR())
	}
}
