package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/offload"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// offloadSweep is how often expired offloaded outputs are removed (a
// read past the TTL is refused at once whatever the sweep).
const offloadSweep = time.Minute

// newOffloader returns the tool output offloader (nil, not a typed nil,
// when offloading is off) and starts its sweeper until ctx ends.
func newOffloader(ctx context.Context, cfg config.OffloadConfig, st *store.Store, log zerolog.Logger) (pipeline.Offloader, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	o, err := offload.New(ctx, offload.Config{
		Threshold: cfg.ThresholdBytes, Preview: cfg.PreviewBytes, TTL: cfg.TTL,
		UserQuota: cfg.UserQuotaBytes, TotalQuota: cfg.TotalQuotaBytes,
	}, st.Offloads(), offload.Options{}, log.With().Str("component", "offload").Logger())
	if err != nil {
		return nil, err
	}
	go o.Run(ctx, offloadSweep)
	return o, nil
}

// noteOffload puts what the gateway stored of a call's output (ids and
// sizes) or the quota's refusal in its audit entry.
func noteOffload(e *audit.Entry, r proxy.CallRecord) {
	if len(r.Offloaded) == 0 && r.OffloadRefused == "" {
		return
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	if len(r.Offloaded) > 0 {
		outs := make([]map[string]any, 0, len(r.Offloaded))
		for _, o := range r.Offloaded {
			outs = append(outs, map[string]any{"id": o.ID, "bytes": o.Bytes})
		}
		e.Details["offloaded"] = outs
	}
	if r.OffloadRefused != "" {
		e.Details["offload_refused"] = r.OffloadRefused
	}
}
