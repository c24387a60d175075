//go:build e2e

package e2e

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// debReport is what TestDebian measured.
type debReport struct {
	debs, tried, packed, installed int // .debs, trees tried, trees packed and installed by pgoci
	extensions                     int // extensions the pgoci phase's packages brought
	// pgoci and apt map each extension to "" when CREATE EXTENSION ...
	// CASCADE succeeded, else to the first line of the server's error.
	pgoci, apt map[string]string
	// failed maps a package pgoci could not pack or install to the step
	// and pgoci's error.
	failed map[string]string
}

// fail records that step failed for package name, with the last line
// pgoci printed (its error).
func (r *debReport) fail(name, step, out string) {
	if r.failed == nil {
		r.failed = map[string]string{}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	r.failed[name] = step + ": " + lines[len(lines)-1]
}

// compare fails the test unless every extension that loads through apt
// loads through pgoci, and the other way round (a difference either way
// means the two installs are not the same), and every tree packed and
// installed.
func (r *debReport) compare(t *testing.T) {
	t.Helper()
	for _, name := range r.names() {
		viaPGOCI, viaAPT := r.outcome(r.pgoci, name), r.outcome(r.apt, name)
		switch {
		case viaAPT == "" && viaPGOCI != "":
			t.Errorf("%s loads through apt but not through pgoci: %s", name, viaPGOCI)
		case viaPGOCI == "" && viaAPT != "":
			t.Errorf("%s loads through pgoci but not through apt (%s): the two installs differ", name, viaAPT)
		}
	}
	if a, p := r.loading(r.apt), r.loading(r.pgoci); a != p {
		t.Errorf("%d extensions load through apt, %d through pgoci", a, p)
	}
	if r.packed != r.tried || r.installed != r.tried {
		t.Errorf("of %d packages, %d packed and %d installed", r.tried, r.packed, r.installed)
	}
}

// names are the extensions either phase offered, sorted.
func (r *debReport) names() []string {
	set := maps.Clone(r.pgoci)
	maps.Copy(set, r.apt)
	return slices.Sorted(maps.Keys(set))
}

// outcome is "" for an extension that loaded, else why it did not.
func (r *debReport) outcome(m map[string]string, name string) string {
	if res, ok := m[name]; ok {
		return res
	}
	return "not offered"
}

func (r *debReport) loading(m map[string]string) int {
	n := 0
	for _, res := range m {
		if res == "" {
			n++
		}
	}
	return n
}

// markdown renders the table and the extensions that fail both ways.
func (r *debReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| Debian bookworm `postgresql-15-*` | count |\n| --- | ---: |\n")
	fmt.Fprintf(&b, "| packages tried (%d .debs, -doc left out, -scripts merged) | %d |\n", r.debs, r.tried)
	fmt.Fprintf(&b, "| packed with `pgoci pack` | %d |\n", r.packed)
	fmt.Fprintf(&b, "| installed with `pgoci install --pg-config` | %d |\n", r.installed)
	fmt.Fprintf(&b, "| extensions (control files as pgoci installs them) | %d |\n", r.extensions)
	fmt.Fprintf(&b, "| extensions loading via apt | %d |\n", r.loading(r.apt))
	fmt.Fprintf(&b, "| extensions loading via pgoci | %d |\n", r.loading(r.pgoci))
	for _, name := range slices.Sorted(maps.Keys(r.failed)) {
		fmt.Fprintf(&b, "\n- package `%s`: %s", name, r.failed[name])
	}
	var both, aptOnly []string
	aptOnlyLoading := 0
	for _, name := range r.names() {
		_, inPGOCI := r.pgoci[name]
		viaPGOCI, viaAPT := r.outcome(r.pgoci, name), r.outcome(r.apt, name)
		switch {
		case !inPGOCI:
			aptOnly = append(aptOnly, fmt.Sprintf("`%s`", name))
			if viaAPT == "" {
				aptOnlyLoading++
			}
		case viaPGOCI != "" && viaAPT != "":
			both = append(both, fmt.Sprintf("- `%s`: %s", name, viaAPT))
		}
	}
	if len(both) > 0 {
		fmt.Fprintf(&b, "\nFailing both ways (`CREATE EXTENSION ... CASCADE`, the server's first error line via apt):\n\n%s\n", strings.Join(both, "\n"))
	}
	if len(aptOnly) > 0 {
		fmt.Fprintf(&b, "\nOffered via apt only (%d of them loading): %s.\n", aptOnlyLoading, strings.Join(aptOnly, ", "))
	}
	return b.String()
}

// write logs the report and writes it to $PGOCI_E2E_REPORT when set.
func (r *debReport) write(t *testing.T) {
	t.Helper()
	var rows []string
	for _, name := range r.names() {
		rows = append(rows, fmt.Sprintf("%-32s apt: %-11s pgoci: %s", name, r.word(r.outcome(r.apt, name)), r.word(r.outcome(r.pgoci, name))))
	}
	t.Logf("per extension:\n%s\n\n%s", strings.Join(rows, "\n"), r.markdown())
	if path := os.Getenv("PGOCI_E2E_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(r.markdown()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func (r *debReport) word(outcome string) string {
	if outcome == "not offered" {
		return outcome
	}
	return loadWord(outcome)
}
