package parts

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParse: laying out a tools/call result whose text is mirrored in
// structuredContent (the echo shape), with a list of records beside it.
func BenchmarkParse(b *testing.B) {
	para := "The quarterly report lists revenue by region, the open support tickets and the roadmap items for the next release. "
	for _, size := range []int{1 << 10, 64 << 10} {
		text := strings.Repeat(para, size/len(para)+1)[:size]
		rows := make([]map[string]any, 100)
		for i := range rows {
			rows[i] = map[string]any{"id": i, "owner": fmt.Sprint("user", i), "status": "open"}
		}
		raw, _ := json.Marshal(map[string]any{
			"content":           []map[string]string{{"type": "text", "text": text}},
			"structuredContent": map[string]any{"message": text, "rows": rows},
		})
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(MethodToolsCall, RootResult, raw, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
