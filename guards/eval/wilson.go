package eval

import (
	"fmt"
	"math"
)

// z95 is the two-sided 95 % standard normal quantile.
const z95 = 1.959963984540054

// Wilson returns the 95 % Wilson score interval [lo, hi] for k successes
// in n trials. Unlike the normal (Wald) interval it stays inside [0, 1]
// and is honest at k = 0 or k = n: 71 of 71 gives [94.9 %, 100 %], not
// "100 %". n = 0 returns [0, 1] (nothing is known).
func Wilson(k, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	if k < 0 {
		k = 0
	}
	if k > n {
		k = n
	}
	p := float64(k) / float64(n)
	nf := float64(n)
	z2 := z95 * z95
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	lo, hi = centre-half, centre+half
	// Exact at the edges (rounding would otherwise leave 1e-17).
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return math.Max(0, lo), math.Min(1, hi)
}

// Rate is a proportion with its 95 % Wilson interval.
type Rate struct {
	K, N   int
	P      float64
	Lo, Hi float64
}

// NewRate computes k/n and its interval.
func NewRate(k, n int) Rate {
	r := Rate{K: k, N: n}
	if n > 0 {
		r.P = float64(k) / float64(n)
	}
	r.Lo, r.Hi = Wilson(k, n)
	return r
}

// String prints "97.2% [90.3–99.2]" (percent, one decimal), or "-" when
// n is 0.
func (r Rate) String() string {
	if r.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%% [%.1f–%.1f]", 100*r.P, 100*r.Lo, 100*r.Hi)
}

// Precision is TP / (TP + FP); "-" on a line with no malicious rows,
// where every detection is a false positive and precision says nothing
// the FPR does not.
func (c Cell) Precision() Rate {
	if c.TP+c.FN == 0 {
		return Rate{}
	}
	return NewRate(c.TP, c.TP+c.FP)
}

// Recall is TP / (TP + FN).
func (c Cell) Recall() Rate { return NewRate(c.TP, c.TP+c.FN) }

// FPR is FP / (FP + TN).
func (c Cell) FPR() Rate { return NewRate(c.FP, c.FP+c.TN) }
