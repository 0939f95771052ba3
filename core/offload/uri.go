package offload

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Prefix starts every offload URI. The full form is
//
//	gatehouse://offload/{connector}/{id}[?offset=N][&length=M]
//
// offset and length are bytes of the stored output (of its UTF-8 text,
// or of the decoded binary); a text range is moved to rune boundaries and
// the read says where the next one starts.
const Prefix = "gatehouse://offload/"

// Ref is a parsed offload URI.
type Ref struct {
	Connector, ID string
	// Offset is where the read starts; Length how many bytes it asks
	// for (-1: to the end).
	Offset, Length int64
}

// URI is the link to output id made on connector slug.
func URI(slug, id string) string { return Prefix + slug + "/" + id }

// RangeURI is the link to n bytes of output id from off.
func RangeURI(slug, id string, off, n int64) string {
	return URI(slug, id) + "?offset=" + strconv.FormatInt(off, 10) + "&length=" + strconv.FormatInt(n, 10)
}

// IsURI reports whether uri is meant as an offload URI (well formed or
// not: a malformed one is refused, never sent upstream).
func IsURI(uri string) bool { return strings.HasPrefix(uri, Prefix) }

// ConnectorOf returns the connector slug an offload URI names, for
// routing on the aggregate endpoint.
func ConnectorOf(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, Prefix)
	if !ok {
		return "", false
	}
	slug, _, ok := strings.Cut(rest, "/")
	return slug, ok && slug != ""
}

// ParseURI parses an offload URI; errors wrap ErrBadURI.
func ParseURI(uri string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("%w %q: %s (the form is %s{connector}/{id}[?offset=N&length=M])", ErrBadURI, uri, why, Prefix)
	}
	rest, ok := strings.CutPrefix(uri, Prefix)
	if !ok {
		return bad("it does not start with " + Prefix)
	}
	path, query, _ := strings.Cut(rest, "?")
	slug, id, ok := strings.Cut(path, "/")
	if !ok || slug == "" || id == "" || strings.Contains(id, "/") {
		return bad("the path must be {connector}/{id}")
	}
	ref := Ref{Connector: slug, ID: id, Length: -1}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("the query does not parse")
	}
	for k, v := range q {
		if len(v) != 1 {
			return bad(k + " is given more than once")
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 0 {
			return bad(k + " must be a non-negative integer")
		}
		switch k {
		case "offset":
			ref.Offset = n
		case "length":
			if n == 0 {
				return bad("length must be positive")
			}
			ref.Length = n
		default:
			return bad("unknown parameter " + k + " (offset and length are known)")
		}
	}
	return ref, nil
}
