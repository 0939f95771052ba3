package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/syslog"
	"net/http"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileSink appends entries as JSON Lines to a file rotated by size
// (lumberjack: rotation, retention and compression, well kept and widely
// used, rather than hand-written renaming).
type FileSink struct {
	mu sync.Mutex
	w  *lumberjack.Logger
}

// NewFileSink writes to path, rotating at maxSizeMB (default 100) and
// keeping maxBackups old files for maxAgeDays (0: no limit).
func NewFileSink(path string, maxSizeMB, maxBackups, maxAgeDays int, compress bool) *FileSink {
	if maxSizeMB == 0 {
		maxSizeMB = 100
	}
	return &FileSink{w: &lumberjack.Logger{Filename: path, MaxSize: maxSizeMB, MaxBackups: maxBackups, MaxAge: maxAgeDays, Compress: compress}}
}

// Deliver implements Sink: one write per batch, so a batch is not split
// across a rotation.
func (f *FileSink) Deliver(_ context.Context, entries []*Entry) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write audit file: %w", err)
	}
	return nil
}

// Close implements Sink.
func (f *FileSink) Close() error { return f.w.Close() }

// WebhookSink POSTs each batch as a JSON array.
type WebhookSink struct {
	url     string
	headers map[string]string
	client  *http.Client
}

// NewWebhookSink posts to url with headers (e.g. Authorization).
func NewWebhookSink(url string, headers map[string]string, client *http.Client) *WebhookSink {
	if client == nil {
		client = &http.Client{}
	}
	return &WebhookSink{url: url, headers: headers, client: client}
}

// Deliver implements Sink: any 2xx answer accepts the batch.
func (w *WebhookSink) Deliver(ctx context.Context, entries []*Entry) error {
	body, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gatehouse-audit")
	for k, v := range w.headers {
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post audit batch: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("audit webhook answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// Close implements Sink.
func (w *WebhookSink) Close() error { w.client.CloseIdleConnections(); return nil }

// SyslogSink sends each entry as one syslog message (facility auth,
// severity info; denied and failed outcomes as warning) whose text is the
// entry's JSON. The standard library's log/syslog speaks the BSD syslog
// protocol every collector accepts.
type SyslogSink struct {
	network, addr, tag string
	mu                 sync.Mutex
	w                  *syslog.Writer
}

// NewSyslogSink sends to addr over network ("" and "" mean the local
// syslog daemon).
func NewSyslogSink(network, addr, tag string) *SyslogSink {
	if tag == "" {
		tag = "gatehouse"
	}
	return &SyslogSink{network: network, addr: addr, tag: tag}
}

// Deliver implements Sink. A broken connection is dropped and re-dialled
// on the next attempt.
func (s *SyslogSink) Deliver(_ context.Context, entries []*Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		w, err := syslog.Dial(s.network, s.addr, syslog.LOG_AUTH|syslog.LOG_INFO, s.tag)
		if err != nil {
			return fmt.Errorf("dial syslog: %w", err)
		}
		s.w = w
	}
	for _, e := range entries {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if e.Outcome == OutcomeDenied || e.Outcome == OutcomeError {
			err = s.w.Warning(string(line))
		} else {
			err = s.w.Info(string(line))
		}
		if err != nil {
			_ = s.w.Close()
			s.w = nil
			return fmt.Errorf("send to syslog: %w", err)
		}
	}
	return nil
}

// Close implements Sink.
func (s *SyslogSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return nil
	}
	err := s.w.Close()
	s.w = nil
	return err
}
