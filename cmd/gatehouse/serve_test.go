package main

import (
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/metrics"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
)

func TestCallEntryMarksUnlistedTools(t *testing.T) {
	for _, unlisted := range []bool{false, true} {
		e := callEntry(proxy.CallRecord{User: "ada", Connector: "c", Tool: "t", Outcome: "success", Unlisted: unlisted})
		if got, _ := e.Details[metrics.DetailUnlisted].(bool); got != unlisted {
			t.Errorf("Unlisted %v: details %v", unlisted, e.Details)
		}
	}
}

func TestCallEntryNamesWhoDecidedTheApproval(t *testing.T) {
	tests := []struct {
		name string
		rec  proxy.CallRecord
		want map[string]string
	}{
		{"an approved call names its approver", proxy.CallRecord{Decision: "approved", Outcome: "success", Approval: "apr_1", ApprovedBy: "ada", ApprovedVia: "admin-api"},
			map[string]string{"approval": "apr_1", "approved_by": "ada", "approved_via": "admin-api"}},
		{"a denied approval names its decider", proxy.CallRecord{Decision: "deny", Outcome: "denied", Approval: "apr_2", ApprovedBy: "gatehouse", ApprovedVia: "timeout"},
			map[string]string{"approval": "apr_2", "decided_by": "gatehouse", "decided_via": "timeout"}},
		{"a call without an approval names nobody", proxy.CallRecord{Decision: "allow", Outcome: "success"}, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := callEntry(tc.rec)
			for _, k := range []string{"approval", "approved_by", "approved_via", "decided_by", "decided_via"} {
				got, _ := e.Details[k].(string)
				if got != tc.want[k] {
					t.Errorf("details[%s] = %q, want %q (details %v)", k, got, tc.want[k], e.Details)
				}
			}
		})
	}
}

func TestSeedRulesCarryTheApprover(t *testing.T) {
	got := seedRule(config.SeedRule{ID: "r", Effect: "require-approval", Approver: "role:finance"})
	if got.Approver != "role:finance" || got.ID != "r" || got.Effect != "require-approval" {
		t.Errorf("seed rule %+v", got)
	}
}

func TestProxyLimitsCarryEveryConfiguredLimit(t *testing.T) {
	l := config.LimitsConfig{SessionsPerUser: 1, SessionsPerConnector: 2, STDIOProcessesPerUser: 3, STDIOProcessesPerConnector: 4,
		InflightPerUser: 5, InflightPerConnector: 6, NameMaxBytes: 7, URIMaxBytes: 8}
	want := proxy.Limits{SessionsPerUser: 1, SessionsPerConnector: 2, STDIOPerUser: 3, STDIOPerConnector: 4,
		InflightPerUser: 5, InflightPerConnector: 6, NameMaxBytes: 7, URIMaxBytes: 8}
	if got := proxyLimits(l); got != want {
		t.Errorf("proxyLimits = %+v, want %+v", got, want)
	}
}
