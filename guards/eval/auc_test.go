package eval

import (
	"math"
	"testing"
)

func TestComputeAUC(t *testing.T) {
	cases := []struct {
		name     string
		pos, neg []float64
		want     float64
	}{
		{"perfect separation", []float64{3, 4, 5}, []float64{0, 1, 2}, 1},
		{"inverted", []float64{0, 1}, []float64{2, 3}, 0},
		{"all tied is chance", []float64{1, 1}, []float64{1, 1, 1}, 0.5},
		// Pairs (pos, neg): 2>1, 2=2, 2<3, 4>1, 4>2, 4>3 → (4 + 0.5) / 6.
		{"ties count one half", []float64{2, 4}, []float64{1, 2, 3}, 4.5 / 6},
		// A binary feature: 3 of 4 malicious and 1 of 4 benign have it →
		// AUC = (TPR + 1 − FPR) / 2 = (0.75 + 0.75) / 2.
		{"binary feature", []float64{1, 1, 1, 0}, []float64{1, 0, 0, 0}, 0.75},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := ComputeAUC(tc.pos, tc.neg)
			if math.Abs(a.Value-tc.want) > 1e-12 {
				t.Fatalf("AUC = %v, want %v", a.Value, tc.want)
			}
			if a.Lo > a.Value || a.Hi < a.Value || a.Lo < 0 || a.Hi > 1 {
				t.Fatalf("interval [%v, %v] around %v", a.Lo, a.Hi, a.Value)
			}
		})
	}
	if a := ComputeAUC(nil, []float64{1}); a.Value != 0.5 || a.Lo != 0 || a.Hi != 1 {
		t.Fatalf("empty side: %+v", a)
	}
}

// The Hanley & McNeil (1982) standard error for AUC 0.9 with 50
// malicious and 50 benign rows, worked by hand: Q1 = 0.9/1.1, Q2 =
// 1.62/1.9, SE = sqrt((0.09 + 49(Q1−0.81) + 49(Q2−0.81)) / 2500) = 0.03212.
func TestAUCIntervalHanleyMcNeil(t *testing.T) {
	pos := make([]float64, 50)
	neg := make([]float64, 50)
	for i := range pos {
		pos[i] = 1
	}
	// 40 benign below every positive (2000 wins) + 10 tied (250 halves):
	// U = 2250 = 0.9 · 2500.
	for i := 40; i < 50; i++ {
		neg[i] = 1
	}
	a := ComputeAUC(pos, neg)
	if math.Abs(a.Value-0.9) > 1e-12 {
		t.Fatalf("AUC %v", a.Value)
	}
	if half := (a.Hi - a.Lo) / 2; math.Abs(half-z95*0.03212) > 1e-4 {
		t.Fatalf("half-width %v, want %v", half, z95*0.03212)
	}
}
