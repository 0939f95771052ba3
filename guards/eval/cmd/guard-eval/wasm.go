package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/guards/builtin"
	"github.com/gatehouse-mcp/gatehouse/guards/eval"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// wasmJudge runs the compiled built-in guards — the modules the gateway
// embeds — in the trusted guard host, applying the host's action rules,
// so the table measures what ships.
func wasmJudge(ctx context.Context, threshold float64) (eval.Judge, func(), error) {
	h, err := host.New(ctx, host.Config{MemoryLimitPages: 2048, Log: zerolog.Nop()})
	if err != nil {
		return nil, nil, err
	}
	mods := map[string]*host.Module{}
	for _, name := range builtin.Names {
		code, err := builtin.Module(name)
		if err == nil {
			mods[name], err = h.Load(ctx, name, code, nil)
		}
		if err != nil {
			h.Close(ctx)
			return nil, nil, err
		}
	}
	if threshold == 0 {
		threshold, _ = toolguard.Level("medium")
	}
	byPhase := map[string]*host.Module{
		guard.HookToolList: mods["tool-list-guard"], guard.HookToolCall: mods["tool-call-guard"], guard.HookToolIntent: mods["tool-intent-guard"],
	}
	judge := func(phase string, in *guard.Input) (guard.Verdict, error) {
		if phase == guard.HookToolRequest {
			// Both built-in guards with the request hook.
			a, err := call(ctx, mods["tool-call-guard"], phase, in, threshold)
			if err != nil {
				return a, err
			}
			b, err := call(ctx, mods["tool-intent-guard"], phase, in, threshold)
			return eval.Stronger(a, b), err
		}
		m := byPhase[phase]
		if m == nil {
			return guard.Verdict{}, fmt.Errorf("no built-in guard for phase %q", phase)
		}
		return call(ctx, m, phase, in, threshold)
	}
	return judge, func() { h.Close(context.Background()) }, nil
}

// call runs one module's hook on in and applies the host's action rules.
func call(ctx context.Context, m *host.Module, hook string, in *guard.Input, threshold float64) (guard.Verdict, error) {
	in.Hook = hook
	data, err := json.Marshal(in)
	if err != nil {
		return guard.Verdict{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := m.Call(cctx, hook, data)
	if err != nil {
		return v, err
	}
	v.Action = toolguard.Applied(v, threshold)
	return v, nil
}
