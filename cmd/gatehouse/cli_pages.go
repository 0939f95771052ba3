package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// pageFlags are the pagination flags of a list command: the API pages
// with limit and cursor and answers next_cursor, empty on the last page.
type pageFlags struct {
	limit  int
	cursor string
	all    bool
}

func (p *pageFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&p.limit, "limit", 0, "items per page, 1-1000 (default: the server's, 100)")
	cmd.Flags().StringVar(&p.cursor, "cursor", "", "start after this cursor (a previous answer's next_cursor)")
	cmd.Flags().BoolVar(&p.all, "all-pages", false, "follow next_cursor through every page")
	// --all was this flag's first name; it read as "all users" to some.
	// It stays, hidden, so scripts written for it keep working (a
	// deprecation notice would land in --json output).
	cmd.Flags().BoolVar(&p.all, "all", false, "follow next_cursor through every page")
	_ = cmd.Flags().MarkHidden("all")
}

// listAnswer is a list endpoint's answer, with the items of every page
// fetched under key.
type listAnswer struct {
	key string
	// raw is the JSON answer as printed by --json: a single page's answer
	// as the API sent it, or with --all the last page's with every item.
	raw   []byte
	items []json.RawMessage
	// next is the cursor of the page after the last one fetched.
	next string
}

// list fetches the list at path: one page, or every page with --all.
func (c *adminClient) list(ctx context.Context, path string, q url.Values, key string, p pageFlags) (*listAnswer, error) {
	if q == nil {
		q = url.Values{}
	}
	if p.limit != 0 {
		q.Set("limit", strconv.Itoa(p.limit))
	}
	cursor := p.cursor
	ans := &listAnswer{key: key}
	seen := map[string]bool{}
	for {
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page map[string]json.RawMessage
		body, err := c.getJSON(ctx, apiRequest{method: "GET", path: path, query: q}, &page)
		if err != nil {
			return nil, err
		}
		var items []json.RawMessage
		if raw, ok := page[key]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, fmt.Errorf("GET %s: %q is not a list: %w", path, key, err)
			}
		}
		ans.items = append(ans.items, items...)
		ans.next = ""
		if raw, ok := page["next_cursor"]; ok {
			if err := json.Unmarshal(raw, &ans.next); err != nil {
				return nil, fmt.Errorf("GET %s: next_cursor: %w", path, err)
			}
		}
		if !p.all {
			ans.raw = body
			return ans, nil
		}
		if ans.next == "" {
			return ans, ans.merge(page)
		}
		if seen[ans.next] {
			return nil, fmt.Errorf("GET %s: the server repeated cursor %q; stopping", path, ans.next)
		}
		seen[ans.next] = true
		cursor = ans.next
	}
}

// merge builds the --json answer of --all: the last page's answer with
// every page's items.
func (a *listAnswer) merge(last map[string]json.RawMessage) error {
	items := a.items
	if items == nil {
		items = []json.RawMessage{}
	}
	all, err := json.Marshal(items)
	if err != nil {
		return err
	}
	last[a.key] = all
	a.raw, err = json.Marshal(last)
	return err
}

// decodeItems decodes a list's items into typed values for the tables.
func decodeItems[T any](a *listAnswer) ([]T, error) {
	out := make([]T, 0, len(a.items))
	for _, raw := range a.items {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", a.key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// printList prints a list answer: the JSON with --json, otherwise the
// table rows gives, and a hint on stderr when more pages remain.
func printList[T any](pr *printer, a *listAnswer, header []string, row func(T) []string) error {
	if pr.json {
		return pr.printJSON(a.raw)
	}
	items, err := decodeItems[T](a)
	if err != nil {
		return err
	}
	rows := make([][]string, len(items))
	for i, v := range items {
		rows[i] = row(v)
	}
	if err := pr.table(header, rows); err != nil {
		return err
	}
	if a.next != "" {
		fmt.Fprintf(pr.errOut, "more %s: --cursor %s, or --all-pages\n", a.key, a.next)
	}
	return nil
}

// listFilter is a list command's string flag sent as the query parameter
// of the same name when set.
type listFilter struct {
	name, usage string
	// allowed, when set, are the only values the filter takes: anything
	// else is refused before the request, listing them.
	allowed []string
}

// oneOf returns an error naming flag and the allowed values when value is
// set and not one of them.
func oneOf(flag, value string, allowed ...string) error {
	if value == "" || slices.Contains(allowed, value) {
		return nil
	}
	return fmt.Errorf("--%s %q is not one of: %s", flag, value, strings.Join(allowed, ", "))
}

// listSpec describes a plain list command: GET path, items under key,
// filters passed through, one table row per item.
type listSpec[T any] struct {
	use, short, path, key string
	filters               []listFilter
	header                []string
	row                   func(T) []string
}

// newListCommand builds a list command from spec, with the paging flags.
func newListCommand[T any](f *adminFlags, spec listSpec[T]) *cobra.Command {
	values := make([]string, len(spec.filters))
	var pages pageFlags
	cmd := &cobra.Command{
		Use:   spec.use,
		Short: spec.short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			q := url.Values{}
			for i, flt := range spec.filters {
				if flt.allowed != nil {
					if err := oneOf(flt.name, values[i], flt.allowed...); err != nil {
						return err
					}
				}
				if values[i] != "" {
					q.Set(flt.name, values[i])
				}
			}
			ans, err := c.list(cmd.Context(), spec.path, q, spec.key, pages)
			if err != nil {
				return err
			}
			return printList(pr, ans, spec.header, spec.row)
		},
	}
	for i, flt := range spec.filters {
		cmd.Flags().StringVar(&values[i], flt.name, "", flt.usage)
	}
	pages.register(cmd)
	return cmd
}

// restrict makes cmd refuse, before it runs, a value of the string flag
// outside allowed, listing them.
func restrict(cmd *cobra.Command, flag string, allowed ...string) {
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(c, args); err != nil {
				return err
			}
		}
		v, err := c.Flags().GetString(flag)
		if err != nil {
			return err
		}
		return oneOf(flag, v, allowed...)
	}
}
