package train

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/model"
	"github.com/gatehouse-mcp/gatehouse/guards/eval/evaltest"
)

func TestThresholdAt(t *testing.T) {
	neg := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95}
	cases := []struct {
		target  float64
		flagged int // benign scores ≥ threshold
	}{{0, 0}, {0.1, 1}, {0.25, 2}, {0.5, 5}}
	for _, c := range cases {
		th := ThresholdAt(neg, c.target)
		n := 0
		for _, x := range neg {
			if x >= th {
				n++
			}
		}
		if n != c.flagged {
			t.Errorf("target %v: threshold %v flags %d benign, want %d", c.target, th, n, c.flagged)
		}
		if float64(float32(th)) != th {
			t.Errorf("target %v: threshold %v is not a float32", c.target, th)
		}
	}
}

func TestFoldsKeepGroupsTogether(t *testing.T) {
	var ex []Example
	for i := range 40 {
		ex = append(ex, Example{Text: "x", Group: string(rune('a' + i%9))})
	}
	folds := assignFolds(ex, 5, 1)
	byGroup := map[string]int{}
	used := map[int]bool{}
	for i, e := range ex {
		if f, ok := byGroup[e.Group]; ok && f != folds[i] {
			t.Fatalf("group %s in folds %d and %d", e.Group, f, folds[i])
		}
		byGroup[e.Group] = folds[i]
		used[folds[i]] = true
	}
	if len(used) != 5 {
		t.Fatalf("%d folds used, want 5", len(used))
	}
}

func toy() []Example {
	var ex []Example
	for i, s := range []string{"ls -la", "git status", "cat notes.txt", "grep foo bar.txt", "echo hi", "make test", "du -sh .", "tar xf a.tar"} {
		ex = append(ex, Example{Text: s, Group: "b" + string(rune('a'+i))})
	}
	for i, s := range []string{"; id", "| whoami", "`id`", "$(whoami)", "&& cat /etc/passwd", "; uname -a"} {
		ex = append(ex, Example{Text: "ls" + s, Malicious: true, Group: "m" + string(rune('a'+i))})
	}
	return ex
}

func TestTrainIsReproducibleAndSeparates(t *testing.T) {
	cfg := Config{Kind: model.KindChars, Bits: 12, Epochs: 20, Rate: 0.5, L2: 1e-6, Seed: 1, Folds: 3, TargetFPR: 0}
	a, _, err := Train(cfg, toy())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Train(cfg, toy())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Marshal(), b.Marshal()) {
		t.Fatal("two runs with one seed wrote different weights")
	}
	if a.Score("ls; whoami") <= a.Score("ls -la docs") {
		t.Fatalf("model does not rank an injection above a benign command: %v vs %v", a.Score("ls; whoami"), a.Score("ls -la docs"))
	}
}

func TestTrainNeedsBothClasses(t *testing.T) {
	if _, _, err := Train(Jobs()[1].Config, []Example{{Text: "ls", Group: "a"}}); err == nil {
		t.Fatal("Train with one class: no error")
	}
}

func TestJoin(t *testing.T) {
	cases := []struct{ base, payload, want string }{
		{"ls", "; id", "ls; id"},
		{"ls", "whoami", "ls whoami"},
		{"ls", "", "ls"},
		{"ls", "'$(id)'", "ls'$(id)'"},
	}
	for _, c := range cases {
		if got := Join(c.base, c.payload); got != c.want {
			t.Errorf("Join(%q, %q) = %q, want %q", c.base, c.payload, got, c.want)
		}
	}
}

// TestCheckedInWeightsAreReproducible retrains every built-in model from
// the dev splits and requires the checked-in weights byte for byte
// (`make guard-train` is the only way they change).
func TestCheckedInWeightsAreReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every model on the corpora (a few seconds)")
	}
	rows := evaltest.Rows(t, 1000)
	for _, job := range Jobs() {
		m, _, err := Train(job.Config, job.Examples(rows, "dev"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "builtin", "model", "weights", job.Name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Marshal(), want) {
			t.Errorf("%s: retrained weights differ from the checked-in file; run make guard-train", job.Name)
		}
	}
}

func TestCommandExamplesTakeBasesFromBenignRows(t *testing.T) {
	rows := evaltest.Rows(t, 1000)
	ex := CommandExamples(rows, "dev", Seed)
	var mal, ben int
	for _, e := range ex {
		if e.Malicious {
			mal++
		} else {
			ben++
		}
	}
	if mal == 0 || ben == 0 {
		t.Fatalf("dev command examples: %d malicious, %d benign", mal, ben)
	}
	// Every malicious example is a payload alone or a benign dev command
	// followed by it: prefixes come from the benign class.
	benign := map[string]bool{}
	for _, e := range ex {
		if !e.Malicious {
			benign[e.Text] = true
		}
	}
	withBase := 0
	for _, e := range ex {
		if !e.Malicious {
			continue
		}
		for b := range benign {
			if len(b) < len(e.Text) && e.Text[:len(b)] == b {
				withBase++
				break
			}
		}
	}
	if withBase < mal*CommandCopies/(CommandCopies+1)*9/10 {
		t.Fatalf("only %d of %d malicious examples start with a benign command", withBase, mal)
	}
}
