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

func TestProxyLimitsCarryEveryConfiguredLimit(t *testing.T) {
	l := config.LimitsConfig{SessionsPerUser: 1, SessionsPerConnector: 2, STDIOProcessesPerUser: 3, STDIOProcessesPerConnector: 4,
		InflightPerUser: 5, InflightPerConnector: 6, NameMaxBytes: 7, URIMaxBytes: 8}
	want := proxy.Limits{SessionsPerUser: 1, SessionsPerConnector: 2, STDIOPerUser: 3, STDIOPerConnector: 4,
		InflightPerUser: 5, InflightPerConnector: 6, NameMaxBytes: 7, URIMaxBytes: 8}
	if got := proxyLimits(l); got != want {
		t.Errorf("proxyLimits = %+v, want %+v", got, want)
	}
}
