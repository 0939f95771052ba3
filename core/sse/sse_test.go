package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// readAll reads events until an error; it returns the events and the error.
func readAll(stream string, limit int) ([]Event, error) {
	r := NewReader(strings.NewReader(stream), limit)
	var out []Event
	for {
		ev, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, *ev)
	}
}

func TestReader(t *testing.T) {
	msg := func(data string) Event { return Event{Type: "message", Data: []byte(data)} }
	tests := []struct {
		name    string
		stream  string
		limit   int
		want    []Event
		wantErr error
	}{
		{name: "one event is read and the stream ends cleanly", stream: "data: {}\n\n",
			want: []Event{msg("{}")}, wantErr: io.EOF},
		{name: "an empty stream ends cleanly", stream: "", wantErr: io.EOF},
		{name: "multi-line data is joined with newlines", stream: "data: a\ndata: b\ndata: c\n\n",
			want: []Event{msg("a\nb\nc")}, wantErr: io.EOF},
		{name: "CRLF line endings are accepted", stream: "id: 1\r\nevent: message\r\ndata: a\r\ndata: b\r\n\r\n",
			want: []Event{{ID: "1", HasID: true, Type: "message", Data: []byte("a\nb")}}, wantErr: io.EOF},
		{name: "comments are skipped", stream: ": keep-alive\ndata: x\n: another\n\n:\n\n",
			want: []Event{msg("x")}, wantErr: io.EOF},
		{name: "only one leading space of a value is dropped", stream: "data:x\n\ndata:  y\n\n",
			want: []Event{msg("x"), msg(" y")}, wantErr: io.EOF},
		{name: "a field without a colon has an empty value", stream: "data\n\n",
			want: []Event{msg("")}, wantErr: io.EOF},
		{name: "unknown fields are ignored", stream: "foo: bar\ndata: x\n\n",
			want: []Event{msg("x")}, wantErr: io.EOF},
		{name: "an id without data is reported", stream: "id: 42\n\n",
			want: []Event{{ID: "42", HasID: true, Type: "message", Data: []byte{}}}, wantErr: io.EOF},
		{name: "an empty id is reported as present", stream: "id\ndata: x\n\n",
			want: []Event{{ID: "", HasID: true, Type: "message", Data: []byte("x")}}, wantErr: io.EOF},
		{name: "an id with a NUL is ignored", stream: "id: a\x00b\ndata: x\n\n",
			want: []Event{msg("x")}, wantErr: io.EOF},
		{name: "a retry hint is read", stream: "retry: 10\ndata: x\n\n",
			want: []Event{{Type: "message", Data: []byte("x"), Retry: 10}}, wantErr: io.EOF},
		{name: "a retry hint alone is reported on the next event", stream: "retry: 250\n\ndata: x\n\n",
			want: []Event{{Type: "message", Data: []byte("x"), Retry: 250}}, wantErr: io.EOF},
		{name: "a retry hint that is not a number is ignored", stream: "retry: soon\ndata: x\n\nretry: -5\ndata: y\n\n",
			want: []Event{msg("x"), msg("y")}, wantErr: io.EOF},
		{name: "a priming event has an id, a retry and empty data", stream: "id: p1\nretry: 10\ndata: \n\n",
			want: []Event{{ID: "p1", HasID: true, Type: "message", Data: []byte{}, Retry: 10}}, wantErr: io.EOF},
		{name: "event types are read and default to message", stream: "event: endpoint\ndata: /m\n\ndata: x\n\n",
			want: []Event{{Type: "endpoint", Data: []byte("/m")}, msg("x")}, wantErr: io.EOF},
		{name: "the type of an event without data does not carry over to the next", stream: "event: ping\n\ndata: x\n\n",
			want: []Event{msg("x")}, wantErr: io.EOF},
		{name: "blank lines between events are skipped", stream: "\n\n\ndata: x\n\n\n\ndata: y\n\n",
			want: []Event{msg("x"), msg("y")}, wantErr: io.EOF},
		{name: "a stream cut after a data line is an unexpected EOF", stream: "data: x\n\ndata: partial\n",
			want: []Event{msg("x")}, wantErr: io.ErrUnexpectedEOF},
		{name: "a stream cut inside a line is an unexpected EOF", stream: "data: {\"jsonrpc\"",
			wantErr: io.ErrUnexpectedEOF},
		{name: "a stream cut after an id is an unexpected EOF", stream: "id: 3\n",
			wantErr: io.ErrUnexpectedEOF},
		{name: "data over the limit is too large", stream: "data: 0123456789AB\n\n", limit: 10,
			wantErr: ErrEventTooLarge},
		{name: "data lines that add up over the limit are too large", stream: "data: 012345\ndata: 678901\n\n", limit: 10,
			want: nil, wantErr: ErrEventTooLarge},
		{name: "data exactly at the limit is read", stream: "data: 0123456789\n\n", limit: 10,
			want: []Event{msg("0123456789")}, wantErr: io.EOF},
		{name: "a line longer than the read buffer and the limit is too large", stream: "data: " + strings.Repeat("x", 100<<10) + "\n\n", limit: 1 << 10,
			wantErr: ErrEventTooLarge},
		{name: "a line longer than the read buffer within the limit is read", stream: "data: " + strings.Repeat("x", 100<<10) + "\n\n", limit: 1 << 20,
			want: []Event{msg(strings.Repeat("x", 100<<10))}, wantErr: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			got, err := readAll(tt.stream, limit)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d events %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.ID != w.ID || g.HasID != w.HasID || g.Type != w.Type || g.Retry != w.Retry || !bytes.Equal(g.Data, w.Data) {
					t.Errorf("event %d = %+v (data %q), want %+v (data %q)", i, g, g.Data, w, w.Data)
				}
			}
		})
	}
}

// errReader fails after its data with a non-EOF error.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReaderPassesReadErrorsThrough(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(&errReader{data: "data: x\n\n", err: boom}, 1<<20)
	if ev, err := r.Next(); err != nil || string(ev.Data) != "x" {
		t.Fatalf("first Next = %v, %v; want the event", ev, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("second Next = %v, want the read error", err)
	}
}

func TestWriteEventRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		id, typ  string
		data     string
		wantData string // "" means same as data
	}{
		{name: "a JSON message travels as one data line", data: `{"jsonrpc":"2.0","id":1,"result":{}}`},
		{name: "an id and a type travel with the data", id: "e-7", typ: "message", data: `{"a":1}`},
		{name: "a custom type travels", typ: "endpoint", data: "/messages?session=1"},
		{name: "empty data travels as an empty event", id: "only-id", data: ""},
		{name: "multi-line data comes back joined", data: "line 1\nline 2\nline 3"},
		{name: "CRLF in data comes back as LF", data: "a\r\nb", wantData: "a\nb"},
		{name: "a trailing newline comes back", data: "a\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := bufio.NewWriter(&buf)
			if err := WriteEvent(w, tt.id, tt.typ, []byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			ev, err := NewReader(&buf, 1<<20).Next()
			if err != nil {
				t.Fatalf("Next: %v (wire %q)", err, buf.String())
			}
			want := tt.data
			if tt.wantData != "" {
				want = tt.wantData
			}
			wantType := tt.typ
			if wantType == "" {
				wantType = "message"
			}
			if string(ev.Data) != want || ev.ID != tt.id || ev.HasID != (tt.id != "") || ev.Type != wantType {
				t.Errorf("read %+v (data %q), want id %q type %q data %q", ev, ev.Data, tt.id, wantType, want)
			}
		})
	}
}

func TestWritePriming(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := WritePriming(w, "p-1", 10); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if got, want := buf.String(), "id: p-1\nretry: 10\ndata: \n\n"; got != want {
		t.Errorf("wire = %q, want %q", got, want)
	}
	t.Run("a reader sees an id, the retry hint and empty data", func(t *testing.T) {
		ev, err := NewReader(strings.NewReader(buf.String()), 1<<20).Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != "p-1" || !ev.HasID || ev.Retry != 10 || len(ev.Data) != 0 {
			t.Errorf("read %+v, want id p-1, retry 10, empty data", ev)
		}
	})
}

func BenchmarkReaderNext(b *testing.B) {
	var stream bytes.Buffer
	w := bufio.NewWriter(&stream)
	data := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("x", 900) + `"}]}}`)
	for i := 0; i < 1000; i++ {
		WriteEvent(w, "", "message", data)
	}
	w.Flush()
	wire := stream.Bytes()
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(wire), 1<<20)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
