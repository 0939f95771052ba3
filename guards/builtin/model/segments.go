package model

import "strings"

// maxSegments bounds the segments scored for one text.
const maxSegments = 512

// Segments cuts text into the units a segmented model scores: lines, and
// sentences within a line (split after ". ", "! ", "? "), trimmed, empty
// ones dropped, at most maxSegments.
func Segments(text string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		for len(line) > 0 && len(out) < maxSegments {
			cut := len(line)
			for i := 0; i+1 < len(line); i++ {
				if (line[i] == '.' || line[i] == '!' || line[i] == '?') && line[i+1] == ' ' {
					cut = i + 1
					break
				}
			}
			if s := strings.TrimSpace(line[:cut]); s != "" {
				out = append(out, s)
			}
			line = line[cut:]
		}
	}
	return out
}
