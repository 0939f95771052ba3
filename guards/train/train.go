// Package train fits the built-in guards' learned detectors
// (guards/builtin/model): logistic regression on hashed n-gram features,
// trained by stochastic gradient descent in a fixed order with a fixed
// seed, quantised to int8, with the block threshold chosen on
// out-of-fold scores of the dev split (grouped k-fold, groups never cross
// folds). Same inputs, same bytes out.
package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/model"
)

// Example is one training text.
type Example struct {
	Text      string
	Malicious bool
	// Group keeps near-duplicates in one fold (server, page, payload).
	Group string
	// TrainOnly examples are fitted on but not counted when the
	// threshold is chosen (text that is not what the model judges, e.g.
	// documentation beside tool definitions).
	TrainOnly bool
}

// Config fixes a training run.
type Config struct {
	Kind model.Kind
	Bits uint8
	// Segmented trains on segments (model.Segments): a benign text's
	// segments are all benign; a malicious text's segments are malicious
	// unless the same segment occurs in a benign text of the training set
	// (the honest carrier sentences of a poisoned definition).
	Segmented bool
	Epochs    int
	// Rate is the initial learning rate; L2 the weight decay per step.
	Rate, L2 float64
	Seed     uint64
	// Folds for the out-of-fold threshold; TargetFPR the largest
	// out-of-fold benign rate allowed at the threshold.
	Folds     int
	TargetFPR float64
}

// Report describes a run (printed by guard-train).
type Report struct {
	// Malicious and Benign count the examples the threshold is chosen on.
	Malicious, Benign int
	// OOF are out-of-fold scores of the dev examples, in input order.
	OOF []float64
	// OOFFPR and OOFRecall are the rates at the chosen threshold.
	OOFFPR, OOFRecall float64
}

type vec struct {
	idx []uint32
	y   float64
	w   float64 // class weight
}

// units are the (text, label) pairs the model is fitted on.
func units(cfg Config, ex []Example) ([]string, []bool) {
	if !cfg.Segmented {
		texts, ys := make([]string, len(ex)), make([]bool, len(ex))
		for i, e := range ex {
			texts[i], ys[i] = e.Text, e.Malicious
		}
		return texts, ys
	}
	benign := map[string]bool{}
	for _, e := range ex {
		if !e.Malicious {
			for _, s := range model.Segments(e.Text) {
				benign[s] = true
			}
		}
	}
	var texts []string
	var ys []bool
	for _, e := range ex {
		segs := model.Segments(e.Text)
		if !e.Malicious {
			for _, s := range segs {
				texts, ys = append(texts, s), append(ys, false)
			}
			continue
		}
		var own []string
		for _, s := range segs {
			if !benign[s] {
				own = append(own, s)
			}
		}
		if len(own) == 0 {
			own = segs
		}
		for _, s := range own {
			texts, ys = append(texts, s), append(ys, true)
		}
	}
	return texts, ys
}

func featurize(cfg Config, ex []Example) []vec {
	texts, ys := units(cfg, ex)
	var pos, neg float64
	for _, y := range ys {
		if y {
			pos++
		} else {
			neg++
		}
	}
	out := make([]vec, len(texts))
	for i, t := range texts {
		v := vec{idx: model.Features(cfg.Kind, cfg.Bits, t), w: 1}
		if ys[i] {
			v.y = 1
			if pos > 0 {
				v.w = neg / pos // balance the classes
			}
		}
		out[i] = v
	}
	return out
}

// fit runs SGD and returns float weights and bias.
func fit(cfg Config, vs []vec) ([]float64, float64) {
	w := make([]float64, 1<<cfg.Bits)
	b := 0.0
	order := make([]int, len(vs))
	for i := range order {
		order[i] = i
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	for ep := 0; ep < cfg.Epochs; ep++ {
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := cfg.Rate / (1 + float64(ep)*0.3)
		for _, i := range order {
			v := vs[i]
			if len(v.idx) == 0 {
				continue
			}
			x := 1 / math.Sqrt(float64(len(v.idx)))
			z := b
			for _, f := range v.idx {
				z += w[f] * x
			}
			p := 1 / (1 + math.Exp(-z))
			g := (p - v.y) * v.w
			for _, f := range v.idx {
				w[f] -= lr * (g*x + cfg.L2*w[f])
			}
			b -= lr * g * 0.1
		}
	}
	return w, b
}

// quantise maps float weights to int8 with one scale.
func quantise(cfg Config, w []float64, b float64) *model.Model {
	maxAbs := 0.0
	for _, x := range w {
		maxAbs = math.Max(maxAbs, math.Abs(x))
	}
	scale := maxAbs / 127
	if scale == 0 {
		scale = 1
	}
	m := &model.Model{Kind: cfg.Kind, Bits: cfg.Bits, Segmented: cfg.Segmented, Scale: float32(scale), Bias: float32(b), Weights: make([]int8, len(w))}
	for i, x := range w {
		m.Weights[i] = int8(math.Round(x / scale))
	}
	return m
}

// Fit trains one quantised model on ex (sorted by the caller) without a
// threshold.
func Fit(cfg Config, ex []Example) *model.Model {
	w, b := fit(cfg, featurize(cfg, ex))
	return quantise(cfg, w, b)
}

// Train fits the model on all of ex and sets its threshold from grouped
// k-fold out-of-fold scores: the lowest score whose out-of-fold benign
// rate is ≤ cfg.TargetFPR.
func Train(cfg Config, ex []Example) (*model.Model, Report, error) {
	rep := Report{OOF: make([]float64, len(ex))}
	for _, e := range ex {
		switch {
		case e.TrainOnly:
		case e.Malicious:
			rep.Malicious++
		default:
			rep.Benign++
		}
	}
	if rep.Malicious == 0 || rep.Benign == 0 {
		return nil, rep, fmt.Errorf("train: need both classes, have %d malicious and %d benign", rep.Malicious, rep.Benign)
	}
	folds := assignFolds(ex, cfg.Folds, cfg.Seed)
	for k := 0; k < cfg.Folds; k++ {
		var tr []Example
		for i, e := range ex {
			if folds[i] != k {
				tr = append(tr, e)
			}
		}
		m := Fit(cfg, tr)
		for i, e := range ex {
			if folds[i] == k {
				rep.OOF[i] = m.Score(e.Text)
			}
		}
	}
	var neg, pos []float64
	for i, e := range ex {
		if e.TrainOnly {
			continue
		}
		if e.Malicious {
			pos = append(pos, rep.OOF[i])
		} else {
			neg = append(neg, rep.OOF[i])
		}
	}
	t := ThresholdAt(neg, cfg.TargetFPR)
	rep.OOFFPR, rep.OOFRecall = rateAtLeast(neg, t), rateAtLeast(pos, t)
	m := Fit(cfg, ex)
	m.Threshold = float32(t)
	return m, rep, nil
}

// ThresholdAt is the lowest threshold t such that the share of neg with
// score ≥ t is at most target (just above the k-th highest benign score,
// k = ⌊target·n⌋).
func ThresholdAt(neg []float64, target float64) float64 {
	s := slices.Clone(neg)
	sort.Sort(sort.Reverse(sort.Float64Slice(s)))
	k := int(math.Floor(target * float64(len(s))))
	if k >= len(s) {
		return 0
	}
	// Scores ≥ t may include the top k benign rows but not the (k+1)-th;
	// t is a float32 (the weights file's type) strictly above it.
	t := float32(s[k])
	if float64(t) <= s[k] {
		t = math.Nextafter32(t, 2)
	}
	return float64(t)
}

func rateAtLeast(xs []float64, t float64) float64 {
	n := 0
	for _, x := range xs {
		if x >= t {
			n++
		}
	}
	return float64(n) / float64(len(xs))
}

// assignFolds puts every group in one fold: groups sorted by name,
// shuffled with the seed, dealt round robin.
func assignFolds(ex []Example, k int, seed uint64) []int {
	set := map[string]bool{}
	for _, e := range ex {
		set[e.Group] = true
	}
	groups := make([]string, 0, len(set))
	for g := range set {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	r := rand.New(rand.NewPCG(seed, 7))
	r.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	fold := make(map[string]int, len(groups))
	for i, g := range groups {
		fold[g] = i % k
	}
	out := make([]int, len(ex))
	for i, e := range ex {
		out[i] = fold[e.Group]
	}
	return out
}
