package sqlstatus_test

import (
	"fmt"
	"os"

	"pgoci/sqlstatus"
)

// Render a report as `pgoci status` prints it: one tab-separated line per
// finding, the statement and its note last, ready to paste into psql
// connected to the database of the first column. CheckDSN or Check make
// the report from a running server.
func ExampleReport_WriteText() {
	report := sqlstatus.Report{
		Databases: []string{"app", "postgres"},
		Findings: []sqlstatus.Finding{
			{Kind: sqlstatus.KindPreload, Library: "pg_cron", Package: "pg_cron", PackageVersion: "1.6.4",
				Statement: "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'pg_cron';",
				Note:      "then restart the server: shared_preload_libraries is read only at start"},
			{Kind: sqlstatus.KindUpdate, Database: "app", Extension: "hida", Version: "1.0", Wanted: "1.1",
				Package: "hida", PackageVersion: "1.1", UpdatePath: "1.0--1.1",
				Statement: `ALTER EXTENSION "hida" UPDATE TO '1.1';`},
			{Kind: sqlstatus.KindGone, Database: "postgres", Extension: "old", Version: "2.0",
				Statement: `DROP EXTENSION "old";`, Note: "drops every object it created; or reinstall its package"},
		},
	}
	if err := report.WriteText(os.Stdout); err != nil {
		fmt.Println(err)
	}
	fmt.Println(report.Summary())
	// Output:
	// (server)	preload	pg_cron	-	pg_cron 1.6.4	ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', 'pg_cron'; -- then restart the server: shared_preload_libraries is read only at start
	// app	update	hida	1.0 -> 1.1	hida 1.1	ALTER EXTENSION "hida" UPDATE TO '1.1';
	// postgres	gone	old	2.0	-	DROP EXTENSION "old"; -- drops every object it created; or reinstall its package
	// 3 finding(s) in 2 database(s) checked
}
