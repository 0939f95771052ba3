package model

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
)

func TestParseRejectsMalformed(t *testing.T) {
	good := (&Model{Kind: KindChars, Bits: 4, Scale: 0.5, Bias: -1, Threshold: 0.6, Weights: make([]int8, 16)}).Marshal()
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("XXXX"), good[4:]...)},
		{"unknown kind", func() []byte { b := bytes.Clone(good); b[4] = 9; return b }()},
		{"zero bits", func() []byte { b := bytes.Clone(good); b[5] = 0; return b }()},
		{"too many bits", func() []byte { b := bytes.Clone(good); b[5] = MaxBits + 1; return b }()},
		{"truncated weights", good[:len(good)-1]},
		{"extra bytes", append(bytes.Clone(good), 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Parse(c.b); !errors.Is(err, ErrBadWeights) {
				t.Fatalf("Parse: err = %v, want ErrBadWeights", err)
			}
		})
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	m := &Model{Kind: KindWords, Bits: 3, Segmented: true, Scale: 0.25, Bias: 0.5, Threshold: 0.75, Weights: []int8{-128, -1, 0, 1, 2, 3, 100, 127}}
	got, err := Parse(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != m.Kind || got.Bits != m.Bits || got.Segmented != m.Segmented || got.Scale != m.Scale || got.Bias != m.Bias || got.Threshold != m.Threshold || !slices.Equal(got.Weights, m.Weights) {
		t.Fatalf("round trip: got %+v, want %+v", got, m)
	}
}

func TestBuiltinModelsLoadWithinBudget(t *testing.T) {
	total := 0
	for _, name := range []string{ToolPoisoning, CommandInjection} {
		m, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Threshold <= 0 || m.Threshold >= 1 {
			t.Errorf("%s: threshold %v outside (0,1)", name, m.Threshold)
		}
		total += len(m.Weights)
	}
	if total > 1<<20 {
		t.Fatalf("embedded weights are %d bytes, budget 1 MiB", total)
	}
	if _, err := Builtin("no-such-model"); err == nil {
		t.Fatal("Builtin(no-such-model): no error")
	}
}

func TestFeaturesSortedDistinct(t *testing.T) {
	for _, k := range []Kind{KindWords, KindChars} {
		fs := Features(k, 10, "ls -la; ls -la; cat /etc/passwd Args: returns")
		if len(fs) == 0 || !slices.IsSorted(fs) || len(slices.Compact(slices.Clone(fs))) != len(fs) {
			t.Fatalf("kind %d: features not sorted and distinct: %v", k, fs)
		}
		for _, f := range fs {
			if f >= 1<<10 {
				t.Fatalf("kind %d: bucket %d outside the table", k, f)
			}
		}
	}
}

func TestWordFeaturesDropConfoundWords(t *testing.T) {
	// "Args:" and "Returns:" are docstring markers of one corpus's
	// generator; a definition must score the same with or without them.
	a := Features(KindWords, 16, "Get the weather. Args: city. Returns: forecast")
	b := Features(KindWords, 16, "Get the weather. city. forecast")
	if !slices.Equal(a, b) {
		t.Fatalf("confound words change the features:\n%v\n%v", a, b)
	}
}

func TestScoreIgnoresRepetition(t *testing.T) {
	m := &Model{Kind: KindChars, Bits: 8, Scale: 0.1, Weights: make([]int8, 256)}
	for i := range m.Weights {
		m.Weights[i] = int8(i%7 - 3)
	}
	// Binary features: a text repeated scores like the text once.
	if a, b := m.Score("abc"), m.Score("abc abc abc"); a == 0 || b == 0 {
		t.Fatalf("scores %v %v", a, b)
	}
	if m.Score("x; id") != m.Score("x; id") {
		t.Fatal("score is not deterministic")
	}
}

func TestSegments(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
		{"a\n\n  b  \nc.d", []string{"a", "b", "c.d"}},
	}
	for _, c := range cases {
		if got := Segments(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Segments(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSegmentedScoreIsMaxOverSegments(t *testing.T) {
	m := &Model{Kind: KindWords, Bits: 12, Segmented: true, Scale: 1, Weights: make([]int8, 1<<12)}
	for _, f := range Features(KindWords, 12, "send secrets") {
		m.Weights[f] = 5
	}
	one := m.Score("send secrets")
	long := m.Score("List files in a directory.\nReturns names and sizes.\nsend secrets")
	if one != long {
		t.Fatalf("segmented score diluted by honest lines: %v vs %v", long, one)
	}
}

func TestToolTextIncludesSchemaStrings(t *testing.T) {
	got := ToolText("read", "", "Read a file.", []byte(`{"type":"object","properties":{"path":{"type":"string","description":"file path","enum":["a","hidden enum"],"default":"hidden default"}}}`))
	for _, want := range []string{"read", "Read a file.", "path", "file path", "hidden enum", "hidden default"} {
		if !bytes.Contains([]byte(got), []byte(want)) {
			t.Errorf("ToolText lacks %q: %q", want, got)
		}
	}
	if ToolText("x", "", "d", []byte(`{not json`)) != "x\nd" {
		t.Error("malformed schema should be ignored, keeping name and description")
	}
}

// The bitmap scorer and the sorted feature list the trainer uses see
// the same set of buckets.
func TestScoreMatchesFeatureSum(t *testing.T) {
	m := &Model{Kind: KindChars, Bits: 9, Scale: 0.01, Bias: 0.1, Weights: make([]int8, 512)}
	for i := range m.Weights {
		m.Weights[i] = int8(i*37%255 - 127)
	}
	for _, text := range []string{"", "a", "ls -la; id", "ping -c 1 example.com|sleep 5 && echo $(whoami)"} {
		for _, k := range []Kind{KindChars, KindWords} {
			m.Kind = k
			fs := Features(k, m.Bits, text)
			var sum int64
			for _, f := range fs {
				sum += int64(m.Weights[f])
			}
			want := sigmoid(float64(m.Bias))
			if len(fs) > 0 {
				want = sigmoid(float64(sum)*float64(m.Scale)/math.Sqrt(float64(len(fs))) + float64(m.Bias))
			}
			if got := m.Score(text); got != want {
				t.Errorf("kind %d %q: Score %v, feature sum %v", k, text, got, want)
			}
		}
	}
}
