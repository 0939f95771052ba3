package admin

import (
	"sort"
	"strconv"

	"github.com/valyala/fasthttp"
)

// Pagination: list endpoints take `limit` (1-1000, default 100) and
// `cursor` (the `next_cursor` of the previous page: the sort key of its
// last item) and answer `next_cursor`, empty on the last page. A cursor is
// a key, not an offset, so pages stay consistent while items are added.

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

type page struct {
	limit  int
	cursor string
}

// readPage parses limit and cursor, answering 400 on a bad limit.
func readPage(ctx *fasthttp.RequestCtx) (page, bool) {
	p := page{limit: defaultPageSize, cursor: string(ctx.QueryArgs().Peek("cursor"))}
	if raw := ctx.QueryArgs().Peek("limit"); len(raw) > 0 {
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < 1 || n > maxPageSize {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid_parameter", "limit must be an integer from 1 to 1000", "limit")
			return page{}, false
		}
		p.limit = n
	}
	return p, true
}

// paginate returns the page of items (sorted ascending by key) after the
// cursor, and the cursor of the next page.
func paginate[T any](items []T, p page, key func(T) string) ([]T, string) {
	start := 0
	if p.cursor != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > p.cursor })
	}
	end := min(start+p.limit, len(items))
	out := items[start:end]
	next := ""
	if end < len(items) && len(out) > 0 {
		next = key(out[len(out)-1])
	}
	return out, next
}
