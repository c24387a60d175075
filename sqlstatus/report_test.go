package sqlstatus

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	r := Report{
		Databases: []string{"app", "tab\tdb"},
		Findings: []Finding{
			{Kind: KindPreload, Library: "pg_cron", Package: "pg_cron", PackageVersion: "1.6.4",
				Note: "the configuration files list pg_cron already: restart the server to load it"},
			{Kind: KindUpdate, Database: "app", Extension: "hida", Version: "1.0", Wanted: "1.1", Package: "hida",
				Statement: `ALTER EXTENSION "hida" UPDATE TO '1.1';`, UpdatePath: "1.0--1.1"},
			{Kind: KindUnavailable, Database: "tab\tdb", Extension: "x", Version: "1", Wanted: "2", Package: "x", PackageVersion: "2",
				Note: "not\noffered"},
		},
		Unchecked: []Unchecked{{Database: "locked", Reason: "no CONNECT\nprivilege"}},
	}
	want := "(server)\tpreload\tpg_cron\t-\tpg_cron 1.6.4\t-- the configuration files list pg_cron already: restart the server to load it\n" +
		"app\tupdate\thida\t1.0 -> 1.1\thida\tALTER EXTENSION \"hida\" UPDATE TO '1.1';\n" +
		"\"tab\\tdb\"\tunavailable\tx\t1\tx 2\t-- not offered\n" +
		"locked\tunchecked\t-\t-\t-\t-- no CONNECT privilege\n"
	if got := r.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range strings.Split(strings.TrimSuffix(r.String(), "\n"), "\n") {
		if n := strings.Count(line, "\t"); n != 5 {
			t.Errorf("line %q has %d tabs, want 5 (six columns)", line, n)
		}
	}
	if s := r.Summary(); s != "3 finding(s) in 2 database(s) checked, 1 database(s) not checked" {
		t.Errorf("Summary() = %q", s)
	}
	if (Report{}).String() != "" || !(Report{}).Clean() {
		t.Error("an empty report renders as something or is not clean")
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(Report{Databases: []string{}, Findings: []Finding{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"databases":[],"findings":[]}` {
		t.Errorf("clean report JSON = %s", got)
	}
	b, err = json.Marshal(Finding{Kind: KindUpdate, Database: "app", Extension: "hida", Version: "1.0", Wanted: "1.1",
		Package: "hida", PackageVersion: "1.1", UpdatePath: "1.0--1.1", Statement: "ALTER ...;"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"update","database":"app","extension":"hida","version":"1.0","wanted":"1.1","package":"hida",` +
		`"packageVersion":"1.1","updatePath":"1.0--1.1","statement":"ALTER ...;"}`
	if string(b) != want {
		t.Errorf("finding JSON = %s\nwant %s", b, want)
	}
}
