package eval

import (
	"math"
	"sort"
)

// AUC is the area under the ROC curve of a score that should be higher
// for malicious rows: the probability that a random malicious row scores
// above a random benign one, ties counting one half (the Mann–Whitney U
// statistic over n₁·n₀). 0.5 is chance; 1.0 (or 0.0) means the score alone
// separates the classes. Lo and Hi are a 95 % interval from the Hanley &
// McNeil (1982) standard error, clipped to [0, 1].
type AUC struct {
	Value, Lo, Hi float64
	NPos, NNeg    int
}

// ComputeAUC returns the AUC of pos (malicious scores) against neg
// (benign scores). With either side empty it is 0.5 with the interval
// [0, 1].
func ComputeAUC(pos, neg []float64) AUC {
	a := AUC{NPos: len(pos), NNeg: len(neg), Value: 0.5, Lo: 0, Hi: 1}
	if len(pos) == 0 || len(neg) == 0 {
		return a
	}
	type obs struct {
		v   float64
		pos bool
	}
	all := make([]obs, 0, len(pos)+len(neg))
	for _, v := range pos {
		all = append(all, obs{v, true})
	}
	for _, v := range neg {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	// Sum of the positives' mid-ranks (1-based).
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		mid := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += mid
			}
		}
		i = j
	}
	n1, n0 := float64(len(pos)), float64(len(neg))
	u := rankSum - n1*(n1+1)/2
	auc := u / (n1 * n0)
	q1 := auc / (2 - auc)
	q2 := 2 * auc * auc / (1 + auc)
	se := math.Sqrt((auc*(1-auc) + (n1-1)*(q1-auc*auc) + (n0-1)*(q2-auc*auc)) / (n1 * n0))
	a.Value = auc
	a.Lo = math.Max(0, auc-z95*se)
	a.Hi = math.Min(1, auc+z95*se)
	return a
}
