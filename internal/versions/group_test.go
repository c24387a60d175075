package versions

import (
	"testing"

	"pgoci/resolve"
)

// TestGroups: tags of one version form one group, newest version first;
// the best tag is the one the target admits, and Why names what keeps the
// target out of a version no tag of which fits.
func TestGroups(t *testing.T) {
	tags := []string{"1.0-17-bookworm", "1.0-18-bookworm", "1.1-17-bookworm", "latest"}
	var target resolve.Target
	target.PG.Major = 18
	got := Groups(tags, resolve.Constraint{}, target)
	if len(got) != 2 {
		t.Fatalf("%d groups, want 2 (1.1, 1.0): %+v", len(got), got)
	}
	if v := got[0].Version.String(); v != "1.1" || got[0].Best != "" {
		t.Errorf("first group %s, best %q; want 1.1 with no tag for PostgreSQL 18", v, got[0].Best)
	}
	if why := got[0].Why(target); why != "its tags are for PostgreSQL 17, not 18" {
		t.Errorf("Why = %q", why)
	}
	if v := got[1].Version.String(); v != "1.0" || got[1].Best != "1.0-18-bookworm" || len(got[1].Tags) != 2 {
		t.Errorf("second group %s, best %q, %d tags; want 1.0, 1.0-18-bookworm, 2", v, got[1].Best, len(got[1].Tags))
	}
}
