package model

import (
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
)

// magic starts every weights file.
const magic = "GHM1"

// headerSize is magic, kind, bits, flags, a reserved byte, scale, bias
// and threshold (float32 each).
const headerSize = 4 + 4 + 12

// MaxBits bounds the table: 1<<20 int8 weights is the 1 MiB budget.
const MaxBits = 20

// ErrBadWeights is returned for a weights file that is not one.
var ErrBadWeights = errors.New("model: malformed weights file")

// Model is a trained, quantised linear model. The zero value is not
// usable; load one with Parse or Builtin.
type Model struct {
	Kind Kind
	Bits uint8
	// Segmented models score every segment of a text (Segments) and
	// return the highest score, so one planted sentence is not diluted by
	// a long honest definition.
	Segmented bool
	// Scale converts an int8 weight to its real value.
	Scale float32
	// Bias is the intercept.
	Bias float32
	// Threshold is the score at or above which the text counts as
	// malicious, chosen on the dev split at ≤ 1 % out-of-fold FPR.
	Threshold float32
	// Weights has 1<<Bits entries.
	Weights []int8

	// bitmaps recycles the per-call set of seen buckets (a *bitmap).
	bitmaps sync.Pool
}

// bitmap is a set of buckets and the list of its members, so clearing
// costs the members, not the table.
type bitmap struct {
	bits    []uint64
	touched []uint32
}

// Parse decodes a weights file.
func Parse(b []byte) (*Model, error) {
	if len(b) < headerSize || string(b[:4]) != magic {
		return nil, fmt.Errorf("%w: bad magic or short header", ErrBadWeights)
	}
	m := &Model{Kind: Kind(b[4]), Bits: b[5], Segmented: b[6]&1 == 1}
	if m.Kind != KindWords && m.Kind != KindChars {
		return nil, fmt.Errorf("%w: unknown feature kind %d", ErrBadWeights, m.Kind)
	}
	if m.Bits == 0 || m.Bits > MaxBits {
		return nil, fmt.Errorf("%w: %d bits (1–%d)", ErrBadWeights, m.Bits, MaxBits)
	}
	m.Scale = math.Float32frombits(binary.LittleEndian.Uint32(b[8:]))
	m.Bias = math.Float32frombits(binary.LittleEndian.Uint32(b[12:]))
	m.Threshold = math.Float32frombits(binary.LittleEndian.Uint32(b[16:]))
	n := 1 << m.Bits
	if len(b) != headerSize+n {
		return nil, fmt.Errorf("%w: %d weight bytes, want %d", ErrBadWeights, len(b)-headerSize, n)
	}
	m.Weights = make([]int8, n)
	for i, c := range b[headerSize:] {
		m.Weights[i] = int8(c)
	}
	return m, nil
}

// Marshal encodes m as a weights file.
func (m *Model) Marshal() []byte {
	b := make([]byte, headerSize+len(m.Weights))
	copy(b, magic)
	b[4], b[5] = byte(m.Kind), m.Bits
	if m.Segmented {
		b[6] = 1
	}
	binary.LittleEndian.PutUint32(b[8:], math.Float32bits(m.Scale))
	binary.LittleEndian.PutUint32(b[12:], math.Float32bits(m.Bias))
	binary.LittleEndian.PutUint32(b[16:], math.Float32bits(m.Threshold))
	for i, w := range m.Weights {
		b[headerSize+i] = byte(w)
	}
	return b
}

// Score returns the model's probability that text is malicious. The
// weight sum is an integer and the rest are single IEEE operations, so
// every platform computes the same value.
func (m *Model) Score(text string) float64 {
	if !m.Segmented {
		return m.score(text)
	}
	best := 0.0
	for _, seg := range Segments(text) {
		best = max(best, m.score(seg))
	}
	return best
}

// score sums the weights of the distinct buckets of text (the set
// Features returns, found with a bitmap instead of a sort).
func (m *Model) score(text string) float64 {
	bm, _ := m.bitmaps.Get().(*bitmap)
	if bm == nil || len(bm.bits) != (len(m.Weights)+63)/64 {
		bm = &bitmap{bits: make([]uint64, (len(m.Weights)+63)/64)}
	}
	seen := bm.bits
	var sum int64
	eachFeature(m.Kind, m.Bits, text, func(h uint32) {
		if seen[h>>6]&(1<<(h&63)) != 0 {
			return
		}
		seen[h>>6] |= 1 << (h & 63)
		bm.touched = append(bm.touched, h)
		sum += int64(m.Weights[h])
	})
	n := len(bm.touched)
	for _, h := range bm.touched {
		seen[h>>6] = 0
	}
	bm.touched = bm.touched[:0]
	m.bitmaps.Put(bm)
	if n == 0 {
		return sigmoid(float64(m.Bias))
	}
	z := float64(sum) * float64(m.Scale)
	z = z / math.Sqrt(float64(n))
	z = z + float64(m.Bias)
	return sigmoid(z)
}

// Hit reports whether text scores at or above the model's threshold.
func (m *Model) Hit(text string) (float64, bool) {
	s := m.Score(text)
	return s, s >= float64(m.Threshold)
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

//go:embed weights
var weights embed.FS

// Names of the built-in models (weights/<name>.bin).
const (
	ToolPoisoning    = "tool-poisoning"
	CommandInjection = "command-injection"
)

// Builtin loads the embedded model name. A build without trained weights
// returns an error wrapping fs.ErrNotExist.
func Builtin(name string) (*Model, error) {
	b, err := weights.ReadFile("weights/" + name + ".bin")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return m, nil
}
