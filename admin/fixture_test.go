package admin

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/catalog"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
)

// changes records which connectors the API told the sessions about.
type changes []string

func (c *changes) ConnectorChanged(slug string) { *c = append(*c, slug) }

type fixture struct {
	api      *API
	registry *connector.Registry
	changed  *changes
	st       *store.Store
	authz    *policy.Admin
	audit    *audit.Log
	authn    *auth.Authenticator
	contract *contract
	// approvals is the API's approval registry: tests open approvals on
	// it as the pipeline would.
	approvals *access.Approvals
}

// The fixture's users, one per built-in role, bound in the policy store.
var (
	owner   = auth.Principal{User: "owner", Roles: []string{auth.RoleOwner}}
	admin   = auth.Principal{User: "ada", Roles: []string{auth.RoleAdmin}}
	member  = auth.Principal{User: "mia", Roles: []string{auth.RoleMember}}
	member2 = auth.Principal{User: "max", Roles: []string{auth.RoleMember}}
	auditor = auth.Principal{User: "aud", Roles: []string{auth.RoleAuditor}}
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	box, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	authz, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []auth.Principal{owner, admin, member, member2, auditor} {
		if err := st.Users().Create(ctx, &auth.User{ID: p.User}); err != nil {
			t.Fatal(err)
		}
		if err := authz.SetRoles(p.User, p.Roles); err != nil {
			t.Fatal(err)
		}
	}
	log := audit.New(st.Audit(), zerolog.Nop())
	t.Cleanup(log.Close)
	builtin, err := catalog.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{registry: connector.NewRegistry(nil), changed: &changes{}, st: st, authz: authz, audit: log,
		approvals: access.NewApprovals(time.Minute)}
	f.api = New(Deps{
		Connectors: st.Connectors(), Credentials: st.Credentials(), Users: st.Users(), Tokens: st.Tokens(),
		Templates: st.Templates(), Requests: st.Requests(), Builtin: builtin,
		Authz: authz, Audit: log, Registry: f.registry, Sessions: f.changed, Approvals: f.approvals,
		Errs:      StoreErrors{NotFound: store.ErrNotFound, Conflict: store.ErrConflict, VersionMismatch: store.ErrVersionMismatch},
		Log:       zerolog.Nop(),
		PublicURL: "https://gatehouse.example.com",
		Now:       func() time.Time { return time.Now().UTC() },
	})
	f.api.Resolver = fakeResolver{}
	f.api.SettingsStore = st.Meta()
	f.api.PrivateExceptions = &netguard.Exceptions{}
	cs, err := policy.NewConditions()
	if err != nil {
		t.Fatal(err)
	}
	if f.api.Policies, err = policy.NewEngine(ctx, cs, st.ToolRules(), authz); err != nil {
		t.Fatal(err)
	}
	f.contract = newContract(t)
	f.authn = auth.New(auth.HashToken("bootstrap-owner-token"), "", store.Directory{Store: st, RolesOf: authz.Roles})
	return f
}

// auditActions returns the actions recorded so far, oldest first.
func (f *fixture) auditActions(t *testing.T) []string {
	t.Helper()
	var out []string
	err := f.audit.Query(context.Background(), audit.Filter{}, func(e *audit.Entry) (bool, error) {
		out = append(out, e.Action+" "+e.Target)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeResolver answers without DNS: internal.example.com and
// *.internal.example.com are private, nxdomain.example.com does not
// exist, every other host is a public documentation-free address.
type fakeResolver struct{}

func (fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	switch {
	case host == "nxdomain.example.com":
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	case host == "internal.example.com" || strings.HasSuffix(host, ".internal.example.com"):
		return []netip.Addr{netip.MustParseAddr("10.0.0.5")}, nil
	default:
		return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
	}
}
