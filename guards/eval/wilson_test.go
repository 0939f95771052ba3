package eval

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// Reference values: Newcombe (1998), "Two-sided confidence intervals for
// the single proportion", Statistics in Medicine 17:857–872, Table I
// (method 3, the Wilson score interval without continuity correction),
// for the first four rows; the rest were computed independently from the
// closed form (Python, z = 1.959963984540054).
func TestWilsonMatchesPublishedValues(t *testing.T) {
	cases := []struct {
		k, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{29, 29, 0.8830, 1},
		{5, 10, 0.2366, 0.7634},
		{0, 10, 0, 0.2775},
		{71, 71, 0.9487, 1},
	}
	for _, tc := range cases {
		lo, hi := Wilson(tc.k, tc.n)
		if math.Abs(lo-tc.lo) > 5e-5 || math.Abs(hi-tc.hi) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestWilsonEdges(t *testing.T) {
	if lo, hi := Wilson(0, 0); lo != 0 || hi != 1 {
		t.Errorf("n=0: [%v, %v], want [0, 1]", lo, hi)
	}
	// The interval always contains the point estimate and narrows with n.
	for _, n := range []int{1, 7, 71, 710, 7100} {
		for _, k := range []int{0, n / 3, n} {
			lo, hi := Wilson(k, n)
			p := float64(k) / float64(n)
			if lo < 0 || hi > 1 || lo > p || hi < p {
				t.Errorf("Wilson(%d, %d) = [%v, %v] does not contain %v inside [0, 1]", k, n, lo, hi, p)
			}
		}
	}
	_, small := Wilson(0, 71)
	_, big := Wilson(0, 7100)
	if big >= small {
		t.Errorf("upper bound at 0/7100 (%v) not below 0/71 (%v)", big, small)
	}
}

func TestRateString(t *testing.T) {
	if got := NewRate(71, 71).String(); got != "100.0% [94.9–100.0]" {
		t.Errorf("71/71 prints %q", got)
	}
	if got := NewRate(0, 0).String(); got != "-" {
		t.Errorf("0/0 prints %q", got)
	}
	if got := (Cell{FP: 3, TN: 10}).Precision().String(); got != "-" {
		t.Errorf("precision on benign-only rows prints %q, want -", got)
	}
	c := Cell{TP: 5, FN: 5, FP: 0, TN: 20}
	if c.Recall().String() != "50.0% [23.7–76.3]" || c.FPR().String() != "0.0% [0.0–16.1]" || c.Precision().String() != "100.0% [56.6–100.0]" {
		t.Errorf("cell rates: %s %s %s", c.Recall(), c.FPR(), c.Precision())
	}
}

func TestWriteShowsIntervals(t *testing.T) {
	res := &Result{Cells: map[Key]*Cell{{"f", "ALL", "test"}: {TP: 5, FN: 5, TN: 20}}, Attack: map[Key]*Cell{}, Groups: map[Key]*Cell{}}
	var txt, md bytes.Buffer
	res.Write(&txt)
	res.WriteMarkdown(&md)
	for name, out := range map[string]string{"text": txt.String(), "markdown": md.String()} {
		if !strings.Contains(out, "50.0% [23.7–76.3]") || !strings.Contains(out, "0.0% [0.0–16.1]") {
			t.Errorf("%s table lacks intervals:\n%s", name, out)
		}
	}
	if !strings.Contains(md.String(), "| f | ALL | test | 10 | 20 |") {
		t.Errorf("markdown lacks counts:\n%s", md.String())
	}
}
