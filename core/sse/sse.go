// Package sse reads and writes Server-Sent Events as the MCP transports use
// them (the WHATWG event-stream format): events with an optional id and
// type, one or more data lines, and retry hints.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// Event is one dispatched event.
type Event struct {
	ID    string
	Type  string // "message" when the stream did not name one
	Data  []byte
	Retry int // milliseconds; 0 when absent
	// HasID reports whether the event carried an id field, which may be
	// empty (an empty id resets the last event id).
	HasID bool
}

// ErrEventTooLarge is returned when one event's data passes the limit.
var ErrEventTooLarge = errors.New("sse: event exceeds the size limit")

// Reader parses an event stream.
type Reader struct {
	r     *bufio.Reader
	limit int
}

// NewReader reads events from r, each at most limit bytes of data.
func NewReader(r io.Reader, limit int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 32<<10), limit: limit}
}

// Next returns the next event. Events with no data and no id are skipped,
// except that retry hints are reported on the next event. io.EOF ends the stream.
func (r *Reader) Next() (*Event, error) {
	ev := &Event{}
	var data bytes.Buffer
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && (hasData || ev.HasID) {
				// A stream cut mid-event: the spec discards it.
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if !hasData && !ev.HasID {
				ev.Type = "" // the type of an empty event does not carry over (WHATWG)
				continue
			}
			if ev.Type == "" {
				ev.Type = "message"
			}
			ev.Data = data.Bytes()
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			if data.Len()+len(value) > r.limit {
				return nil, ErrEventTooLarge
			}
			data.Write(value)
			hasData = true
		case "event":
			ev.Type = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.ID = string(value)
				ev.HasID = true
			}
		case "retry":
			if n, err := strconv.Atoi(string(value)); err == nil && n >= 0 {
				ev.Retry = n
			}
		}
	}
}

func (r *Reader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(buf)+len(chunk) > r.limit+64 {
				return nil, ErrEventTooLarge
			}
			buf = append(buf, chunk...)
			continue
		}
		if err != nil && len(chunk) == 0 && len(buf) == 0 {
			return nil, err
		}
		buf = append(buf, chunk...)
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return buf, nil
	}
}

// WriteEvent writes one event. Data must not contain newlines (JSON-RPC
// messages are compacted before they get here); if it does, each line
// becomes its own data field, which readers join back.
func WriteEvent(w *bufio.Writer, id, typ string, data []byte) error {
	if id != "" {
		w.WriteString("id: ")
		w.WriteString(id)
		w.WriteByte('\n')
	}
	if typ != "" {
		w.WriteString("event: ")
		w.WriteString(typ)
		w.WriteByte('\n')
	}
	for {
		i := bytes.IndexByte(data, '\n')
		w.WriteString("data: ")
		if i < 0 {
			w.Write(data)
			break
		}
		w.Write(bytes.TrimSuffix(data[:i], []byte("\r")))
		w.WriteByte('\n')
		data = data[i+1:]
	}
	_, err := w.WriteString("\n\n")
	return err
}

// WritePriming writes an event with an id and empty data, plus a retry
// hint, that lets a client resume a stream the server closes (2025-11-25).
func WritePriming(w *bufio.Writer, id string, retryMs int) error {
	w.WriteString("id: ")
	w.WriteString(id)
	w.WriteString("\nretry: ")
	w.WriteString(strconv.Itoa(retryMs))
	_, err := w.WriteString("\ndata: \n\n")
	return err
}

// AppendEvent appends one event of type typ to dst (data without newlines,
// as JSON-RPC messages are on the wire).
func AppendEvent(dst []byte, typ string, data []byte) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, typ...)
	dst = append(dst, "\ndata: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}
