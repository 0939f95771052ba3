package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// printer writes a command's answer: the API's JSON with --json, aligned
// tables and key: value lines otherwise. Hints go to errOut so that
// stdout stays the answer.
type printer struct {
	out, errOut io.Writer
	json        bool
}

// printJSON prints an API answer as is, indented. An empty answer (204)
// prints nothing.
func (p *printer) printJSON(raw []byte) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := p.out.Write(buf.Bytes())
	return err
}

// table prints rows under header, columns aligned.
func (p *printer) table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// field is one key: value line of a single object.
type field struct{ key, value string }

// fields prints key: value lines, aligned, skipping empty values.
func (p *printer) fields(fs []field) error {
	tw := tabwriter.NewWriter(p.out, 0, 4, 1, ' ', 0)
	for _, f := range fs {
		if f.value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", f.key, f.value)
		}
	}
	return tw.Flush()
}

// line prints one line of human output.
func (p *printer) line(format string, args ...any) error {
	_, err := fmt.Fprintf(p.out, format+"\n", args...)
	return err
}

// fmtTime shows a time in RFC 3339, or nothing for the zero time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// fmtTimePtr shows an optional time, or none when absent.
func fmtTimePtr(t *time.Time, none string) string {
	if t == nil || t.IsZero() {
		return none
	}
	return fmtTime(*t)
}

// fmtList joins values with ", ", or shows none when there are none.
func fmtList(vs []string, none string) string {
	if len(vs) == 0 {
		return none
	}
	return strings.Join(vs, ", ")
}

// fmtMap shows a map as sorted k=v pairs.
func fmtMap(m map[string]string) string {
	keys := sortedKeys(m)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ", ")
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fmtBool shows a flag as yes or nothing.
func fmtBool(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// fmtVersion shows a resource version, the value --if-match takes.
func fmtVersion(v int64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprint(v)
}
