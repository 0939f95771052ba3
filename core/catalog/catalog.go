// Package catalog is the curated registry of connector templates: the
// templates shipped with the binary (templates/*.yaml, versioned with
// Version) plus the ones admins add. A template becomes a connector only
// when it is added or a request for it is approved.
package catalog

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// Version is the version of the built-in catalog; it changes whenever a
// shipped template is added, removed or changed.
const Version = "2026.11.1"

//go:embed templates/*.yaml
var builtinFS embed.FS

// EnvVar is a value a connector made from the template needs: an
// environment variable of a STDIO server, or a header placeholder.
type EnvVar struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	Required    bool   `yaml:"required" json:"required"`
	Secret      bool   `yaml:"secret" json:"secret"`
	Default     string `yaml:"default,omitempty" json:"default,omitempty"`
}

// Tool is a tool the server is known to expose.
type Tool struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
}

// Auth is the template's upstream auth method.
type Auth struct {
	Kind connector.AuthKind `yaml:"kind" json:"kind"`
}

// Template is one catalog card.
type Template struct {
	ID          string              `yaml:"id" json:"id"`
	Name        string              `yaml:"name" json:"name"`
	Version     string              `yaml:"version" json:"version"`
	Description string              `yaml:"description" json:"description"`
	Publisher   string              `yaml:"publisher" json:"publisher"`
	Homepage    string              `yaml:"homepage" json:"homepage"`
	Category    string              `yaml:"category" json:"category"`
	Hosting     string              `yaml:"hosting" json:"hosting"`
	Transport   connector.Transport `yaml:"transport" json:"transport"`
	URL         string              `yaml:"url,omitempty" json:"url,omitempty"`
	Command     string              `yaml:"command,omitempty" json:"command,omitempty"`
	Args        []string            `yaml:"args,omitempty" json:"args,omitempty"`
	Auth        Auth                `yaml:"auth" json:"auth"`
	Headers     map[string]string   `yaml:"headers,omitempty" json:"headers,omitempty"`
	Env         []EnvVar            `yaml:"env,omitempty" json:"env,omitempty"`
	Tools       []Tool              `yaml:"tools" json:"tools"`
	// Builtin is true for templates shipped with the binary; admins' own
	// templates are false and can be deleted.
	Builtin bool `yaml:"-" json:"builtin"`
	// Owner is who added a custom template.
	Owner string `yaml:"-" json:"owner,omitempty"`
}

// Categories a template may have.
var Categories = []string{"developer-tools", "productivity", "data", "search", "cloud", "communication", "reference", "utilities"}

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)
	envNamePattern = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	argRefPattern  = regexp.MustCompile(`^\{([A-Z_][A-Z0-9_]*)\}$`)
	versionPattern = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
)

// ErrInvalid is wrapped by every template validation error; *FieldError
// names the field.
var ErrInvalid = errors.New("invalid template")

// FieldError names the template field that failed validation.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate checks the template, including that a connector made from it
// (with every value filled) is itself valid.
func (t *Template) Validate() error {
	switch {
	case !idPattern.MatchString(t.ID) || strings.Contains(t.ID, "__"):
		return invalid("id", "%q must be 1-64 lowercase letters, digits or dashes, not starting or ending with a dash", t.ID)
	case strings.TrimSpace(t.Name) == "":
		return invalid("name", "is required")
	case !versionPattern.MatchString(t.Version):
		return invalid("version", "%q is not MAJOR.MINOR.PATCH", t.Version)
	case strings.TrimSpace(t.Description) == "":
		return invalid("description", "is required")
	case !slices.Contains(Categories, t.Category):
		return invalid("category", "%q is not one of %s", t.Category, strings.Join(Categories, ", "))
	case t.Hosting != connector.HostingHosted && t.Hosting != connector.HostingLocal:
		return invalid("hosting", "%q is not one of hosted, local", t.Hosting)
	}
	seen := map[string]bool{}
	for i, e := range t.Env {
		if !envNamePattern.MatchString(e.Name) {
			return invalid(fmt.Sprintf("env[%d].name", i), "%q must be uppercase letters, digits and underscores", e.Name)
		}
		if seen[e.Name] {
			return invalid(fmt.Sprintf("env[%d].name", i), "%q is listed twice", e.Name)
		}
		if strings.TrimSpace(e.Description) == "" {
			return invalid(fmt.Sprintf("env[%d].description", i), "is required")
		}
		if e.Secret && e.Default != "" {
			return invalid(fmt.Sprintf("env[%d].default", i), "a secret has no default")
		}
		seen[e.Name] = true
	}
	for i, a := range t.Args {
		if m := argRefPattern.FindStringSubmatch(a); m != nil && !seen[m[1]] {
			return invalid(fmt.Sprintf("args[%d]", i), "%s names no env entry", a)
		}
	}
	for i, tool := range t.Tools {
		if tool.Name == "" {
			return invalid(fmt.Sprintf("tools[%d].name", i), "is required")
		}
	}
	values := map[string]string{}
	for _, e := range t.Env {
		values[e.Name] = "x"
	}
	c, err := t.Connector(Instance{Slug: t.ID, Values: values, Token: "x", Owner: "catalog"})
	if err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		var fe *connector.FieldError
		if errors.As(err, &fe) {
			return invalid(fe.Field, "%s", fe.Message)
		}
		return invalid("", "%v", err)
	}
	return nil
}

// Parse decodes one template strictly: unknown keys are errors naming the
// key.
func Parse(data []byte) (*Template, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Builtin returns the templates shipped with the binary, sorted by id.
// They are parsed and validated on every call; a broken shipped template
// is a build defect the tests catch.
func Builtin() ([]*Template, error) {
	entries, err := fs.ReadDir(builtinFS, "templates")
	if err != nil {
		return nil, err
	}
	var out []*Template
	for _, e := range entries {
		data, err := builtinFS.ReadFile(path.Join("templates", e.Name()))
		if err != nil {
			return nil, err
		}
		t, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("catalog template %s: %w", e.Name(), err)
		}
		if t.ID+".yaml" != e.Name() {
			return nil, fmt.Errorf("catalog template %s: id %q does not match the file name", e.Name(), t.ID)
		}
		t.Builtin = true
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Instance is what turning a template into a connector needs.
type Instance struct {
	Slug, Name string
	// Values fill the template's env entries (STDIO env vars and {NAME}
	// args); header placeholders stay for each user to fill.
	Values map[string]string
	// Token is the bearer token for bearer-auth templates.
	Token string
	Owner string
	// Status overrides the computed status (active when nothing required
	// is missing, else disabled).
	Status connector.Status
}

// Missing lists the required values (and the bearer token) inst lacks.
func (t *Template) Missing(inst Instance) []string {
	var out []string
	for _, e := range t.Env {
		if e.Required && inst.Values[e.Name] == "" && e.Default == "" && !t.isHeaderPlaceholder(e.Name) {
			out = append(out, e.Name)
		}
	}
	if t.Auth.Kind == connector.AuthBearer && inst.Token == "" {
		out = append(out, "auth.token")
	}
	return out
}

// isHeaderPlaceholder reports whether name is a per-user header placeholder
// (filled by each user, not at creation).
func (t *Template) isHeaderPlaceholder(name string) bool {
	for _, v := range t.Headers {
		if strings.Contains(v, "{"+name+"}") {
			return true
		}
	}
	return false
}

// Connector returns the connector the template makes with inst. Unknown
// values are an error naming them; a connector missing required values is
// created disabled ("not yet configured") unless inst.Status says
// otherwise.
func (t *Template) Connector(inst Instance) (*connector.Connector, error) {
	known := map[string]EnvVar{}
	for _, e := range t.Env {
		known[e.Name] = e
	}
	for k := range inst.Values {
		if _, ok := known[k]; !ok {
			return nil, invalid("values."+k, "template %q has no value %s", t.ID, k)
		}
	}
	value := func(e EnvVar) string {
		if v := inst.Values[e.Name]; v != "" {
			return v
		}
		return e.Default
	}
	c := &connector.Connector{
		Slug: inst.Slug, Name: inst.Name, Description: t.Description, Transport: t.Transport,
		URL: t.URL, Command: t.Command, Auth: connector.Auth{Kind: t.Auth.Kind},
		Hosting: t.Hosting, Template: t.ID, Owner: inst.Owner, Status: inst.Status,
	}
	if c.Name == "" {
		c.Name = t.Name
	}
	if c.Slug == "" {
		c.Slug = t.ID
	}
	if t.Auth.Kind == connector.AuthBearer {
		c.Auth.Token = inst.Token
	}
	for _, a := range t.Args {
		if m := argRefPattern.FindStringSubmatch(a); m != nil {
			a = value(known[m[1]])
		}
		c.Args = append(c.Args, a)
	}
	if len(t.Headers) > 0 {
		c.Headers = make(map[string]string, len(t.Headers))
		for k, v := range t.Headers {
			c.Headers[k] = v
		}
	}
	if t.Transport == connector.TransportSTDIO {
		for _, e := range t.Env {
			if v := value(e); v != "" {
				if c.Env == nil {
					c.Env = map[string]string{}
				}
				c.Env[e.Name] = v
			}
		}
	}
	if c.Status == "" {
		c.Status = connector.StatusActive
		if len(t.Missing(inst)) > 0 {
			c.Status = connector.StatusDisabled
		}
	}
	c.Normalize()
	return c, nil
}

// Filter selects templates. Zero fields match everything.
type Filter struct {
	// Query matches a substring of the name, description, id, publisher or
	// a known tool's name, case-insensitively.
	Query string
	// Hosting is "", "all", "hosted" or "local".
	Hosting string
}

// Match reports whether t passes f.
func (f Filter) Match(t *Template) bool {
	if f.Hosting != "" && f.Hosting != "all" && t.Hosting != f.Hosting {
		return false
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	if q == "" {
		return true
	}
	for _, s := range []string{t.Name, t.Description, t.ID, t.Publisher, t.Category} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	for _, tool := range t.Tools {
		if strings.Contains(strings.ToLower(tool.Name), q) {
			return true
		}
	}
	return false
}
