// Package connector defines the connector: an upstream MCP server packaged
// with its transport, auth, headers, status and advanced settings. It holds
// the model and its validation; persistence lives in core/store and the
// wire to the upstream in core/upstream.
package connector

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Transport names how Gatehouse reaches the upstream server.
type Transport string

// Transports Gatehouse speaks to upstream servers.
const (
	TransportStreamableHTTP Transport = "streamable-http"
	TransportSSE            Transport = "sse"
	TransportSTDIO          Transport = "stdio"
)

// Status is the connector's life-cycle state.
type Status string

// Statuses a connector can be in. Draft connectors are visible only to their
// owner; disabled ones are listed but refuse calls.
const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
	StatusDraft    Status = "draft"
)

// AuthKind selects how Gatehouse authenticates to an HTTP upstream.
type AuthKind string

// Upstream auth kinds. Auto probes the upstream (a 401 naming RFC 9728
// resource metadata means oauth2, anything else none); oauth2 signs each
// user in to the upstream's authorization server (core/upstreamauth).
const (
	AuthAuto   AuthKind = "auto"
	AuthOAuth2 AuthKind = "oauth2"
	AuthBearer AuthKind = "bearer"
	AuthNone   AuthKind = "none"
)

// Auth is the connector's upstream authentication.
type Auth struct {
	Kind AuthKind `json:"kind"`
	// Token is the static bearer token for AuthBearer. It is a secret:
	// encrypted at rest and never returned by the admin API.
	Token string `json:"token,omitempty"`
	// OAuth2 tunes AuthOAuth2 (and AuthAuto when the probe finds OAuth);
	// nil means discover everything and register automatically.
	OAuth2 *OAuth2 `json:"oauth2,omitempty"`
}

// Client registration methods for upstream OAuth (docs/upstream-auth.md).
const (
	// RegistrationAuto uses a Client ID Metadata Document when the
	// upstream's authorization server supports it and the gateway's public
	// URL is HTTPS, else the pre-registered client when one is set, else
	// dynamic registration (RFC 7591).
	RegistrationAuto = "auto"
	// RegistrationCIMD: the client_id is the URL of the gateway's own
	// client metadata document.
	RegistrationCIMD = "cimd"
	// RegistrationDynamic registers through the authorization server's
	// registration endpoint (RFC 7591), once per connector.
	RegistrationDynamic = "dcr"
	// RegistrationPreregistered uses ClientID (and ClientSecret) as given.
	RegistrationPreregistered = "preregistered"
)

// OAuth2 is the upstream OAuth client configuration of a connector.
type OAuth2 struct {
	// Registration is one of the Registration* values ("" is auto).
	Registration string `json:"registration,omitempty"`
	// ClientID and ClientSecret are a pre-registered client's; the secret
	// is encrypted at rest and never returned by the admin API.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Scopes asked for; empty means the upstream's challenge or metadata.
	Scopes []string `json:"scopes,omitempty"`
}

// IdentityForward configures how the caller's identity reaches the upstream.
type IdentityForward struct {
	// Mode is "" (off), "headers" or "jwt".
	Mode string `json:"mode,omitempty"`
}

// Advanced holds the connector's advanced settings (PRODUCT.md).
type Advanced struct {
	// OffloadOutput stores large tool outputs and returns a preview plus a
	// resource link. Defaults to on.
	OffloadOutput *bool `json:"offload_output,omitempty"`
	// OffloadThresholdBytes is the output size above which offloading applies.
	OffloadThresholdBytes int `json:"offload_threshold_bytes,omitempty"`
	// SkipInputValidation bypasses JSON-Schema validation of arguments and
	// disables payload-based policy conditions for this connector.
	SkipInputValidation bool `json:"skip_input_validation,omitempty"`
	// UpstreamEra pins the protocol era spoken to an HTTP upstream: "" or
	// "auto" (the client's era whenever the upstream speaks it), "modern"
	// (always sessionless 2026-07-28: the gateway holds legacy sessions
	// itself, so upstream calls need no session affinity) or "legacy".
	UpstreamEra string `json:"upstream_era,omitempty"`
	// Sensitive redacts audit entries and restricts visibility to SensitiveRoles.
	Sensitive      bool            `json:"sensitive,omitempty"`
	SensitiveRoles []string        `json:"sensitive_roles,omitempty"`
	Identity       IdentityForward `json:"identity_forward,omitempty"`
	// ToolSearch, when set, says whether /mcp/{slug} offers the two
	// tool-search meta-tools (search_tools, call_tool) instead of its
	// full tools/list; unset follows the gateway's
	// tool_search.connectors setting.
	ToolSearch *bool `json:"tool_search,omitempty"`
}

// Connector is one managed upstream MCP server.
type Connector struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Transport   Transport `json:"transport"`
	// URL is the upstream endpoint for the HTTP transports.
	URL string `json:"url,omitempty"`
	// Command, Args and Env start a STDIO upstream, without a shell. Env
	// values are secrets (API keys travel there) and are encrypted at rest.
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	// Headers are sent to HTTP upstreams. Values may hold {PLACEHOLDER}s that
	// each user fills with their own value. Values are encrypted at rest.
	Headers map[string]string `json:"headers,omitempty"`
	Auth    Auth              `json:"auth"`
	// Hosting is "hosted" (a cloud service, or a STDIO server the gateway
	// runs) or "local" (meant to run on the user's machine; the gateway
	// still proxies it when it can start it, and gives local setup).
	Hosting string `json:"hosting,omitempty"`
	// Template is the catalog template the connector was made from, if any.
	Template  string    `json:"template,omitempty"`
	Status    Status    `json:"status"`
	Owner     string    `json:"owner"`
	Advanced  Advanced  `json:"advanced"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version increases by one on every write; updates carry the version
	// they read so that concurrent edits are detected.
	Version int64 `json:"version"`
}

// ErrInvalid is wrapped by every validation error; *FieldError says which field.
var ErrInvalid = errors.New("invalid connector")

// FieldError names the field that failed validation.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrInvalid) hold for field errors.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var (
	slugPattern        = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)
	headerNamePattern  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	placeholderPattern = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	envNamePattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Slugify derives a slug from a display name.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	return s
}

// Normalize fills defaults: slug from name, transport, auth kind, status.
func (c *Connector) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	if c.Slug == "" {
		c.Slug = Slugify(c.Name)
	}
	if c.Transport == "" {
		c.Transport = TransportStreamableHTTP
	}
	if c.Auth.Kind == "" {
		if c.Transport == TransportSTDIO {
			c.Auth.Kind = AuthNone
		} else {
			c.Auth.Kind = AuthAuto
		}
	}
	if c.Status == "" {
		c.Status = StatusDraft
	}
	if c.Hosting == "" {
		c.Hosting = HostingHosted
	}
}

// ValidSlug reports whether s is a well-formed connector slug.
func ValidSlug(s string) bool { return slugPattern.MatchString(s) && !strings.Contains(s, "__") }

// Hosting values.
const (
	HostingHosted = "hosted"
	HostingLocal  = "local"
)

// Validate reports the first invalid field as a *FieldError.
func (c *Connector) Validate() error {
	if c.Name == "" {
		return invalid("name", "is required")
	}
	if len(c.Name) > 200 {
		return invalid("name", "is longer than 200 characters")
	}
	if !slugPattern.MatchString(c.Slug) {
		return invalid("slug", "%q must be 1-64 lowercase letters, digits or dashes, not starting or ending with a dash", c.Slug)
	}
	if strings.Contains(c.Slug, "__") {
		return invalid("slug", "%q must not contain \"__\" (it separates connector and tool names)", c.Slug)
	}
	switch c.Status {
	case StatusActive, StatusDisabled, StatusDraft:
	default:
		return invalid("status", "%q is not one of active, disabled, draft", c.Status)
	}
	switch c.Hosting {
	case "", HostingHosted, HostingLocal:
	default:
		return invalid("hosting", "%q is not one of hosted, local", c.Hosting)
	}
	switch c.Transport {
	case TransportStreamableHTTP, TransportSSE:
		if err := validateURL(c.URL); err != nil {
			return err
		}
		if c.Command != "" || len(c.Args) > 0 || len(c.Env) > 0 {
			return invalid("command", "is only for the stdio transport")
		}
	case TransportSTDIO:
		if c.Command == "" {
			return invalid("command", "is required for the stdio transport")
		}
		if c.URL != "" {
			return invalid("url", "is only for the HTTP transports")
		}
		if len(c.Headers) > 0 {
			return invalid("headers", "are only for the HTTP transports")
		}
		for k := range c.Env {
			if !envNamePattern.MatchString(k) {
				return invalid("env", "%q is not a valid environment variable name", k)
			}
		}
	default:
		// A plugin transport's name: whether a plugin serves it is the
		// gateway's to check (admin API, config seeding), not the model's.
		if err := c.validatePluginTransport(); err != nil {
			return err
		}
	}
	switch c.Auth.Kind {
	case AuthAuto, AuthOAuth2, AuthNone:
		if c.Auth.Token != "" {
			return invalid("auth.token", "is only for auth kind bearer")
		}
		if err := c.Auth.validateOAuth2(); err != nil {
			return err
		}
	case AuthBearer:
		if c.Auth.OAuth2 != nil {
			return invalid("auth.oauth2", "is only for auth kinds oauth2 and auto")
		}
		// A connector not yet configured may lack its token; it can be
		// active only once it has one.
		if c.Auth.Token == "" && c.Status == StatusActive {
			return invalid("auth.token", "is required for an active connector with auth kind bearer (set the token, or keep the connector disabled until you have it)")
		}
	default:
		return invalid("auth.kind", "%q is not one of auto, oauth2, bearer, none", c.Auth.Kind)
	}
	if c.Transport == TransportSTDIO && c.Auth.Kind != AuthNone {
		return invalid("auth.kind", "stdio connectors take env vars, not upstream auth; use none")
	}
	for name, value := range c.Headers {
		if !headerNamePattern.MatchString(name) {
			return invalid("headers", "%q is not a valid header name", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return invalid("headers."+name, "must not contain control characters")
		}
		if strings.Count(value, "{") != len(placeholderPattern.FindAllString(value, -1)) {
			return invalid("headers."+name, "has a malformed placeholder; use {NAME} with letters, digits and underscores")
		}
	}
	switch c.Advanced.Identity.Mode {
	case "", "headers", "jwt":
	default:
		return invalid("advanced.identity_forward.mode", "%q is not one of headers, jwt", c.Advanced.Identity.Mode)
	}
	if c.Advanced.Identity.Mode != "" && c.Transport == TransportSTDIO {
		return invalid("advanced.identity_forward.mode", "needs an HTTP transport")
	}
	switch c.Advanced.UpstreamEra {
	case "", "auto", "legacy":
	case "modern":
		if c.Transport != TransportStreamableHTTP {
			return invalid("advanced.upstream_era", "modern needs the streamable-http transport")
		}
	default:
		return invalid("advanced.upstream_era", "%q is not one of auto, modern, legacy", c.Advanced.UpstreamEra)
	}
	if c.Advanced.OffloadThresholdBytes < 0 {
		return invalid("advanced.offload_threshold_bytes", "must not be negative")
	}
	return nil
}

func (a Auth) validateOAuth2() error {
	o := a.OAuth2
	if o == nil {
		return nil
	}
	if a.Kind == AuthNone {
		return invalid("auth.oauth2", "is only for auth kinds oauth2 and auto")
	}
	switch o.Registration {
	case "", RegistrationAuto, RegistrationCIMD, RegistrationDynamic:
	case RegistrationPreregistered:
		if o.ClientID == "" {
			return invalid("auth.oauth2.client_id", "is required for registration preregistered")
		}
	default:
		return invalid("auth.oauth2.registration", "%q is not one of auto, cimd, dcr, preregistered", o.Registration)
	}
	if o.ClientSecret != "" && o.ClientID == "" {
		return invalid("auth.oauth2.client_secret", "needs auth.oauth2.client_id")
	}
	if len(o.ClientID) > 2048 || strings.ContainsAny(o.ClientID, "\r\n\x00") {
		return invalid("auth.oauth2.client_id", "must be at most 2048 characters without control characters")
	}
	for _, sc := range o.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \"\\\r\n\x00") {
			return invalid("auth.oauth2.scopes", "%q is not a valid scope token", sc)
		}
	}
	return nil
}

func validateURL(raw string) error {
	if raw == "" {
		return invalid("url", "is required for the HTTP transports")
	}
	if _, err := parseHTTPURL(raw); err != nil {
		return invalid("url", "%v", err)
	}
	return nil
}

// PlaceholderSpans returns the [start, end) byte spans of the {NAME}
// placeholders in a header value, in order.
func PlaceholderSpans(v string) [][]int { return placeholderPattern.FindAllStringIndex(v, -1) }

// Placeholders lists the distinct {NAME} placeholders in the header values,
// sorted, so that callers can ask a user for exactly these.
func (c *Connector) Placeholders() []string {
	seen := map[string]bool{}
	for _, v := range c.Headers {
		for _, m := range placeholderPattern.FindAllStringSubmatch(v, -1) {
			seen[m[1]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrMissingPlaceholder is wrapped when a user has not supplied a value.
var ErrMissingPlaceholder = errors.New("missing credential placeholder")

// ExpandHeaders returns the headers with every {NAME} replaced by values[NAME].
// It fails, naming every missing placeholder, when a value is absent.
func (c *Connector) ExpandHeaders(values map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(c.Headers))
	var missing []string
	for name, v := range c.Headers {
		out[name] = placeholderPattern.ReplaceAllStringFunc(v, func(m string) string {
			key := m[1 : len(m)-1]
			val, ok := values[key]
			if !ok || val == "" {
				missing = append(missing, key)
				return m
			}
			return val
		})
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		missing = compact(missing)
		return nil, fmt.Errorf("%w: connector %q needs a value for %s; set it with the connector's credentials endpoint",
			ErrMissingPlaceholder, c.Slug, strings.Join(quoteAll(missing), ", "))
	}
	return out, nil
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "{" + v + "}"
	}
	return out
}

// VisibleTo reports whether user may see the connector at all: drafts are
// visible only to their owner.
//
// A sensitive connector is visible only to its creator, the owner role and
// the roles selected in SensitiveRoles.
func (c *Connector) VisibleTo(user string, roles []string) bool {
	if c.Owner == user {
		return true
	}
	if c.Status == StatusDraft {
		return false
	}
	if !c.Advanced.Sensitive {
		return true
	}
	for _, r := range roles {
		if r == "owner" || slices.Contains(c.Advanced.SensitiveRoles, r) {
			return true
		}
	}
	return false
}

// OffloadEnabled reports the effective offload setting (default on).
func (a Advanced) OffloadEnabled() bool { return a.OffloadOutput == nil || *a.OffloadOutput }

// ToolSearchEnabled reports whether the connector's endpoint offers tool
// search, given the gateway's default for connectors.
func (a Advanced) ToolSearchEnabled(gatewayDefault bool) bool {
	if a.ToolSearch == nil {
		return gatewayDefault
	}
	return *a.ToolSearch
}
