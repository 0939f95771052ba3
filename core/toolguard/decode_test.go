package toolguard

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// decodeStrict accepts exactly what validRaw accepts, and then gives what
// encoding/json gives (parts.Parse's decoding): on hand-picked edge cases
// and on random mutations of valid answers.
func TestDecodeStrictIsEncodingJSONOnValidAnswers(t *testing.T) {
	cases := []string{
		`{"content":[{"type":"text","text":"hello"}],"isError":false}`,
		`{"a":1,"b":-0.5e+10,"c":12345678901234567890123,"d":null,"e":true,"f":[],"g":{}}`,
		`  [1, "two", [3], {"four": 4}]  `,
		`"\u00e9\ud83d\ude00\n\t\"\\\/"`,
		`"\ud800"`, `"\udc00x"`, "\"\xff\"", "{\"\xff\":1}",
		`{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`,
		`{"a":1} {"b":2}`, `{"a":1} x`, `{"a":1}]`, ``, `   `, `nul`, `[1,]`, `{"a" 1}`, `01`, `1.`, `-`, `"\x"`,
		"\"a\x01b\"", `{"é":"\u0000"}`, "\ufeff{}",
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200),
	}
	r := rand.New(rand.NewPCG(7, 8))
	seeds := cases[:4]
	for n := 0; n < 3000; n++ {
		b := []byte(seeds[r.IntN(len(seeds))])
		for k := r.IntN(3); k >= 0 && len(b) > 0; k-- {
			i := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b = append(b[:i], b[i+1:]...)
			case 1:
				b[i] = `{}[]":,\ 0aeu-.`[r.IntN(15)]
			default:
				b = append(b[:i], append([]byte{byte(r.IntN(256))}, b[i:]...)...)
			}
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		checkDecodeStrict(t, []byte(c))
	}
}

// FuzzDecodeStrict holds decodeStrict to jsontext's validity and
// encoding/json's decoding on any input: go test -fuzz FuzzDecodeStrict.
func FuzzDecodeStrict(f *testing.F) {
	for _, c := range []string{
		`{"content":[{"type":"text","text":"hello"}],"isError":false}`,
		`{"a":1,"b":-0.5e+10,"c":[true,false,null],"d":{}}`,
		`"\u00e9\ud83d\ude00\n\t\"\\\/ plain run of text that is long"`,
		"\"caf\xc3\xa9 \xed\xa0\x80 \x7f\x1f\"", `"\ud800"`, `{"a":1,"a":2}`, `[01]`, `1e+`,
	} {
		f.Add([]byte(c))
	}
	f.Fuzz(checkDecodeStrict)
}

// checkDecodeStrict: decodeStrict accepts raw exactly when jsontext does
// (and it holds a value), and then decodes it as encoding/json does.
func checkDecodeStrict(t *testing.T, raw []byte) {
	v, ok := decodeStrict(raw)
	if want := validRaw(raw) && len(bytes.TrimSpace(raw)) > 0; ok != want {
		t.Errorf("%.80q: decodeStrict ok=%v, validRaw %v", raw, ok, want)
		return
	}
	if !ok {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var want any
	if err := dec.Decode(&want); err != nil {
		t.Errorf("%.80q: decodeStrict accepted what encoding/json rejects: %v", raw, err)
		return
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("%.80q: decodeStrict %#v, encoding/json %#v", raw, v, want)
	}
}

// BenchmarkDecodeStrict decodes a tools/call answer of one text item of
// n bytes of prose, as the answer guards do.
func BenchmarkDecodeStrict(b *testing.B) {
	para := "The quarterly report lists revenue by region, the open support tickets and the roadmap items for the next release. "
	for _, n := range []int{100, 1 << 10, 64 << 10} {
		text := strings.Repeat(para, n/len(para)+1)[:n]
		raw, err := json.Marshal(map[string]any{"content": []any{map[string]any{"type": "text", "text": text}}, "isError": false})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := decodeStrict(raw); !ok {
					b.Fatal("not decoded")
				}
			}
		})
	}
}
