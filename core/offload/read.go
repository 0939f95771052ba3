package offload

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// CodeResourceNotFoundLegacy is the legacy eras' resource-not-found code
// (2025-11-25); 2026-07-28 uses −32602 (invalid params).
const CodeResourceNotFoundLegacy = -32002

// MetaKey names the _meta entry of a read result saying which part of
// the output it holds and where the next part starts.
const MetaKey = "io.gatehouse/offload"

// ReadResult answers a resources/read of an offload URI by user on
// connector slug: the result in the request's era (modern: 2026-07-28,
// with resultType, ttlMs and cacheScope), or the error to send.
func (o *Offloader) ReadResult(ctx context.Context, user, slug, uri string, modern bool) (json.RawMessage, *mcp.Error) {
	notFound := CodeResourceNotFoundLegacy
	if modern {
		notFound = mcp.CodeInvalidParams
	}
	piece, err := o.Read(ctx, user, slug, uri)
	switch {
	case errors.Is(err, ErrBadURI):
		return nil, mcp.NewError(mcp.CodeInvalidParams, "invalid params: "+err.Error())
	case errors.Is(err, ErrNotFound):
		e := mcp.Errorf(notFound, "resource %q not found: no output the gateway stored under this link is yours on connector %q", uri, slug)
		e.Data, _ = json.Marshal(map[string]string{"uri": uri})
		return nil, e
	case errors.Is(err, ErrExpired):
		e := mcp.Errorf(notFound, "resource %q expired at %s: the gateway keeps offloaded tool outputs for %s; call the tool again for a fresh one",
			uri, piece.Object.Expires.UTC().Format(time.RFC3339), o.cfg.TTL)
		e.Data, _ = json.Marshal(map[string]string{"uri": uri, "reason": "expired"})
		return nil, e
	case err != nil:
		o.log.Error().Err(err).Str("connector", slug).Str("uri", uri).Msg("could not read an offloaded output")
		return nil, mcp.NewError(mcp.CodeInternalError, "the gateway could not read this stored output (its store failed); retry later")
	}
	obj := piece.Object
	item := map[string]any{"uri": uri}
	if obj.MimeType != "" {
		item["mimeType"] = obj.MimeType
	}
	if obj.Text {
		item["text"] = string(piece.Data)
	} else {
		item["blob"] = base64.StdEncoding.EncodeToString(piece.Data)
	}
	where := map[string]any{"offset": piece.Offset, "length": len(piece.Data), "size": obj.Size,
		"expires": obj.Expires.UTC().Format(time.RFC3339)}
	if piece.Next < obj.Size {
		where["next"] = RangeURI(slug, obj.ID, piece.Next, int64(len(piece.Data)))
	}
	meta := map[string]any{MetaKey: where}
	res := map[string]any{"contents": []any{item}, "_meta": meta}
	if modern {
		res["resultType"] = "complete"
		res["ttlMs"] = max(obj.Expires.Sub(o.now()).Milliseconds(), 0)
		res["cacheScope"] = "private"
		meta[mcp.MetaServerInfo] = map[string]string{"name": "gatehouse", "version": "0.1.0"}
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return nil, mcp.NewError(mcp.CodeInternalError, "encode the stored output: "+err.Error())
	}
	return raw, nil
}

// Advertise adds the resources capability to an initialize or
// server/discover result that lacks it, so clients know they may read
// the links; a result that has it, or is not an object, is returned as
// it is.
func Advertise(result json.RawMessage) json.RawMessage {
	var res map[string]json.RawMessage
	if json.Unmarshal(result, &res) != nil || res == nil {
		return result
	}
	var caps map[string]json.RawMessage
	if raw, ok := res["capabilities"]; ok && json.Unmarshal(raw, &caps) != nil {
		return result
	}
	if caps == nil {
		caps = map[string]json.RawMessage{}
	}
	if _, ok := caps["resources"]; ok {
		return result
	}
	caps["resources"] = json.RawMessage(`{}`)
	res["capabilities"], _ = json.Marshal(caps)
	out, err := json.Marshal(res)
	if err != nil {
		return result
	}
	return out
}
