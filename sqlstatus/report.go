package sqlstatus

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Kind says what a [Finding] is about.
type Kind string

// The kinds of finding.
const (
	// KindUpdate: the extension is created in the database at a version
	// other than the default_version of the installed package. Statement
	// is the ALTER EXTENSION ... UPDATE TO that brings it there;
	// UpdatePath is empty when the server's scripts hold no path between
	// the two versions (the statement would fail: the package must ship
	// an update script, or the extension be dropped and created again).
	KindUpdate Kind = "update"
	// KindGone: the extension is created in the database, no installed
	// package provides it and the server no longer offers it
	// (pg_available_extensions lacks it): its package was uninstalled
	// while the extension was still in use. Statement is DROP EXTENSION,
	// which drops every object the extension created; reinstalling the
	// package is the other way out.
	KindGone Kind = "gone"
	// KindUnavailable: an installed package provides the extension, but
	// the server does not offer it: its extension_control_path does not
	// name the install location (see extension.Settings). No statement.
	KindUnavailable Kind = "unavailable"
	// KindPreload: an installed package needs Library in
	// shared_preload_libraries and the running server did not load it. A
	// server-wide finding (Database is empty). Statement is the ALTER
	// SYSTEM that adds it to the value the server will read at its next
	// start (the entries already there kept); empty when the
	// configuration files already list it. Either way the server must be
	// restarted.
	KindPreload Kind = "preload"
)

// Finding is one thing to fix, with the statement that fixes it. Nothing
// in it has been executed.
type Finding struct {
	Kind Kind `json:"kind"`
	// Database is the database the finding is in; empty for a
	// server-wide finding (KindPreload). Statement must run there.
	Database string `json:"database,omitempty"`
	// Extension is the SQL extension (all kinds but KindPreload).
	Extension string `json:"extension,omitempty"`
	// Library is the module missing from shared_preload_libraries
	// (KindPreload).
	Library string `json:"library,omitempty"`
	// Version is the extension's version in the database
	// (pg_extension.extversion).
	Version string `json:"version,omitempty"`
	// Wanted is the installed package's default_version of the extension
	// (KindUpdate, KindUnavailable).
	Wanted string `json:"wanted,omitempty"`
	// Package and PackageVersion name the installed package the finding
	// comes from; empty for KindGone (no package provides it any more).
	Package        string `json:"package,omitempty"`
	PackageVersion string `json:"packageVersion,omitempty"`
	// UpdatePath is, for KindUpdate, the chain of update scripts the
	// server would run, as pg_extension_update_paths gives it ("1.0--1.1",
	// "1.0--1.1--1.2"); empty when there is none.
	UpdatePath string `json:"updatePath,omitempty"`
	// Statement is the SQL that fixes the finding, ready to run in
	// Database (any database for KindPreload); empty when no statement
	// does (see Note).
	Statement string `json:"statement,omitempty"`
	// Note is one line for the administrator: what the statement does
	// beyond the obvious, what else is needed (a restart), or why there is
	// no statement.
	Note string `json:"note,omitempty"`
}

// Unchecked is a database that could not be checked.
type Unchecked struct {
	Database string `json:"database"`
	Reason   string `json:"reason"`
}

// Report is what [Check] found. It marshals to the JSON that
// `pgoci status --json` prints.
type Report struct {
	// Databases are the databases checked, in order of name.
	Databases []string `json:"databases"`
	// Findings are the server-wide findings, then each database's, by
	// database, extension and kind.
	Findings []Finding `json:"findings"`
	// Unchecked are the databases that could not be checked (connection
	// refused, no CONNECT privilege, a control file the server cannot
	// read), with the reason.
	Unchecked []Unchecked `json:"unchecked,omitempty"`
	// Warnings are checks that could not run, such as the preload check
	// when the role may not read shared_preload_libraries (superuser or
	// pg_read_all_settings).
	Warnings []string `json:"warnings,omitempty"`
}

// Clean reports whether there is nothing to fix and every database was
// checked. Warnings do not count.
func (r Report) Clean() bool { return len(r.Findings) == 0 && len(r.Unchecked) == 0 }

// serverColumn stands for the database of a server-wide finding in the
// text rendering.
const serverColumn = "(server)"

// WriteText renders the report as `pgoci status` prints it: one line per
// finding and per unchecked database, tab-separated: database ("(server)"
// for a server-wide finding), kind, extension or library, version in the
// database ("1.0 -> 1.1" for an update), package and its version, then the
// statement followed by the note as an SQL comment, so that the last
// column pastes into psql as it is. A "-" stands for an empty column.
// Nothing is written for a clean report.
func (r Report) WriteText(w io.Writer) error {
	for _, f := range r.Findings {
		if _, err := io.WriteString(w, f.line()+"\n"); err != nil {
			return err
		}
	}
	for _, u := range r.Unchecked {
		line := strings.Join([]string{textField(u.Database), "unchecked", "-", "-", "-", "-- " + oneLine(u.Reason)}, "\t")
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// line is the text rendering of one finding.
func (f Finding) line() string {
	db := serverColumn
	if f.Database != "" {
		db = textField(f.Database)
	}
	name := cmp.Or(f.Extension, f.Library)
	version := f.Version
	if f.Kind == KindUpdate {
		version = f.Version + " -> " + f.Wanted
	}
	pkg := f.Package
	if pkg != "" && f.PackageVersion != "" {
		pkg += " " + f.PackageVersion
	}
	sql := f.Statement
	if f.Note != "" {
		sql = strings.TrimSpace(sql + " -- " + oneLine(f.Note))
	}
	return strings.Join([]string{db, string(f.Kind), textField(name), textField(version), textField(pkg), dash(sql)}, "\t")
}

// textField keeps a name in its column: "-" when empty, Go-quoted when
// it holds a tab, a newline or another control character (a database may
// be called anything).
func textField(s string) string {
	if s == "" {
		return "-"
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a note or a reason on its line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// sortFindings orders findings server-wide first, then by database,
// extension or library, and kind.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Database, b.Database),
			cmp.Compare(a.Extension, b.Extension),
			cmp.Compare(a.Library, b.Library),
			cmp.Compare(a.Kind, b.Kind))
	})
}

// String is the report's text rendering ([Report.WriteText]).
func (r Report) String() string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

// Summary is one sentence on the report: what was checked and how many
// findings and unchecked databases there are.
func (r Report) Summary() string {
	s := fmt.Sprintf("%d finding(s) in %d database(s) checked", len(r.Findings), len(r.Databases))
	if len(r.Unchecked) > 0 {
		s += fmt.Sprintf(", %d database(s) not checked", len(r.Unchecked))
	}
	return s
}
