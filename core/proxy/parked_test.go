package proxy

import "testing"

func TestParking(t *testing.T) {
	k := newParking()
	if a, b := string(k.nextID()), string(k.nextID()); a == b || a != `"gm-1"` || b != `"gm-2"` {
		t.Fatalf("ids %s, %s: want distinct gm-1, gm-2", a, b)
	}
	d := &downgraded{}
	k.park("tok", d)
	for _, tc := range []struct {
		name  string
		token string
		want  *downgraded
	}{
		{"a parked call is taken by its token", "tok", d},
		{"it is taken once", "tok", nil},
		{"an unknown token takes nothing", "other", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := k.unpark(tc.token); got != tc.want {
				t.Fatalf("unpark(%q) = %p, want %p", tc.token, got, tc.want)
			}
		})
	}
}
