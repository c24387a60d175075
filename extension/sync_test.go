package extension

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pgoci/internal/elftest"
	"pgoci/internal/testregistry"
	"pgoci/linkage"
)

// syncRegistry holds cube 1.4 and 1.5, earthdistance 1.2 (requires cube)
// and hstore 1.8 under <host>/ext.
func syncRegistry(t *testing.T) *testregistry.Server {
	t.Helper()
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.4", "cube", 18, instFiles(instExt{name: "cube", version: "1.4"}))
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	instPush(t, srv, "ext/earthdistance", "1.2", "earthdistance", 18, instFiles(instExt{name: "earthdistance", version: "1.2", requires: []string{"cube"}}))
	instPush(t, srv, "ext/hstore", "1.8", "hstore", 18, instFiles(instExt{name: "hstore", version: "1.8"}))
	return srv
}

func syncRoot(t *testing.T) *Root {
	t.Helper()
	r, err := Open(context.Background(), RootOptions{Root: t.TempDir(), Target: instTarget(18), CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want is a Desired list of names looked up under <host>/ext, "name@constraint" for a version.
func want(srv *testregistry.Server, entries ...string) Desired {
	d := Desired{Repository: srv.Host() + "/ext"}
	for _, e := range entries {
		name, version, _ := strings.Cut(e, "@")
		d.Extensions = append(d.Extensions, Wanted{Name: name, Version: version})
	}
	return d
}

// stepLines are the plan's steps as "action package from->to" strings.
func stepLines(p Plan) []string {
	var out []string
	for _, s := range p.Steps {
		line := string(s.Action) + " " + s.Package
		if s.From != "" || s.To != "" {
			line += " " + s.From + "->" + s.To
		}
		out = append(out, line)
	}
	return out
}

// installedVersions lists "name version dep" for every installed package.
func installedVersions(t *testing.T, r *Root) []string {
	t.Helper()
	pkgs, err := r.List(context.Background())
	if err != nil && !errors.Is(err, ErrNoState) {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		line := p.Name + " " + p.Version
		if p.Dependency {
			line += " dep"
		}
		out = append(out, line)
	}
	return out
}

func mustSync(t *testing.T, r *Root, d Desired) Plan {
	t.Helper()
	plan, _, err := r.Sync(context.Background(), d)
	if err != nil {
		t.Fatalf("sync: %v\nplan:\n%s", err, plan)
	}
	return plan
}

// TestSyncPlans: the plans for adding packages (a provider before the
// package requiring it, listed in any order), upgrading, downgrading and
// removing, each applied and checked against what is installed after.
func TestSyncPlans(t *testing.T) {
	srv := syncRegistry(t)
	r := syncRoot(t)
	ctx := context.Background()
	steps := []struct {
		name      string
		desired   Desired
		plan      []string
		installed []string
	}{
		{"add", want(srv, "earthdistance", "cube@<1.5", "hstore"),
			[]string{"install cube ->1.4", "install earthdistance ->1.2", "install hstore ->1.8"},
			[]string{"cube 1.4", "earthdistance 1.2", "hstore 1.8"}},
		{"upgrade", want(srv, "earthdistance", "cube@>=1.5", "hstore"),
			[]string{"upgrade cube 1.4->1.5"},
			[]string{"cube 1.5", "earthdistance 1.2", "hstore 1.8"}},
		{"downgrade", want(srv, "earthdistance", "cube@~1.4", "hstore"),
			[]string{"downgrade cube 1.5->1.4"},
			[]string{"cube 1.4", "earthdistance 1.2", "hstore 1.8"}},
		{"remove, keeping what a wanted package requires", want(srv, "earthdistance"),
			[]string{"remove hstore 1.8->"},
			[]string{"cube 1.4", "earthdistance 1.2"}},
		{"remove all, the requirer first", Desired{},
			[]string{"remove earthdistance 1.2->", "remove cube 1.4->"},
			nil},
	}
	for _, s := range steps {
		plan, err := r.Plan(ctx, s.desired)
		if err != nil {
			t.Fatalf("%s: plan: %v", s.name, err)
		}
		if diff := cmp.Diff(s.plan, stepLines(plan)); diff != "" {
			t.Errorf("%s: plan (-want +got):\n%s", s.name, diff)
		}
		if _, err := r.Apply(ctx, plan); err != nil {
			t.Fatalf("%s: apply: %v", s.name, err)
		}
		if diff := cmp.Diff(s.installed, installedVersions(t, r)); diff != "" {
			t.Errorf("%s: installed (-want +got):\n%s", s.name, diff)
		}
		if again, err := r.Plan(ctx, s.desired); err != nil || !again.Empty() {
			t.Errorf("%s: a second plan is not empty: %v\n%s", s.name, err, again)
		}
	}
}

// TestSyncOrphanedDependency: a dependency the sync brings along is shown
// in the plan, installed as a dependency, and removed with the package
// that required it.
func TestSyncOrphanedDependency(t *testing.T) {
	srv := syncRegistry(t)
	r := syncRoot(t)
	plan := mustSync(t, r, want(srv, "earthdistance"))
	if diff := cmp.Diff([]string{"install earthdistance ->1.2", "dependency cube"}, stepLines(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if s := plan.Steps[1]; s.Reference != srv.Host()+"/ext/cube" || s.For != "earthdistance" {
		t.Errorf("dependency step %+v, want cube from %s/ext/cube for earthdistance", s, srv.Host())
	}
	if diff := cmp.Diff([]string{"cube 1.5 dep", "earthdistance 1.2"}, installedVersions(t, r)); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
	// Wanting the dependency for itself adopts it: nothing is fetched.
	srv.ResetRequests()
	plan = mustSync(t, r, want(srv, "earthdistance", "cube"))
	if diff := cmp.Diff([]string{"adopt cube 1.5->"}, stepLines(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	for _, q := range srv.Requests() {
		if strings.Contains(q.Path, "/blobs/") {
			t.Errorf("adopting fetched %s %s", q.Method, q.Path)
		}
	}
	if diff := cmp.Diff([]string{"cube 1.5", "earthdistance 1.2"}, installedVersions(t, r)); diff != "" {
		t.Errorf("installed after adoption (-want +got):\n%s", diff)
	}
	plan = mustSync(t, r, want(srv, "hstore"))
	if diff := cmp.Diff([]string{"install hstore ->1.8", "remove earthdistance 1.2->", "remove cube 1.5->"}, stepLines(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"hstore 1.8"}, installedVersions(t, r)); diff != "" {
		t.Errorf("installed (-want +got):\n%s", diff)
	}
}

// TestSyncSatisfiedMakesNoRequest: with the lock file, a sync of a
// location already as wanted sends nothing to the registry and changes
// nothing; without it, it resolves again and still changes nothing.
func TestSyncSatisfiedMakesNoRequest(t *testing.T) {
	srv := syncRegistry(t)
	// No blob cache: the lock file alone must spare the requests.
	r, err := Open(context.Background(), RootOptions{Root: t.TempDir(), Target: instTarget(18), CacheDir: "-"})
	if err != nil {
		t.Fatal(err)
	}
	d := want(srv, "earthdistance", "cube@~1.4", "hstore")
	mustSync(t, r, d)
	before := instSnapshot(t, r.loc.root)
	srv.ResetRequests()
	plan := mustSync(t, r, d)
	if !plan.Empty() || len(plan.Unchanged) != 3 {
		t.Errorf("second sync planned:\n%sunchanged %v", plan, plan.Unchanged)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("a satisfied sync made %d registry requests: %+v", n, srv.Requests())
	}
	if diff := cmp.Diff(before, instSnapshot(t, r.loc.root)); diff != "" {
		t.Errorf("a satisfied sync changed the root (-before +after):\n%s", diff)
	}

	unlocked, err := Open(context.Background(), RootOptions{Root: r.loc.root, Target: instTarget(18), CacheDir: "-", LockFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	if plan := mustSync(t, unlocked, d); !plan.Empty() {
		t.Errorf("sync without the lock file planned:\n%s", plan)
	}
	if len(srv.Requests()) == 0 {
		t.Error("a sync without the lock file made no request: it cannot know the registry's state")
	}
}

// TestSyncResumesAfterFailure: a step that fails (a module that cannot
// load) stops the sync with a *StepError; the steps before it stay done
// and recorded, and once the image is fixed the next sync does only what
// is left.
func TestSyncResumesAfterFailure(t *testing.T) {
	srv := syncRegistry(t)
	broken := instFiles(instExt{name: "broken", version: "1.0"})
	broken["lib/broken.so"] = elfFile(t, elftest.Spec{Needed: []string{"libnotthere.so.1"}, Comment: "broken"})
	instPush(t, srv, "ext/broken", "1.0", "broken", 18, broken)
	r, err := Open(context.Background(), RootOptions{Root: t.TempDir(), Target: instTarget(18), CacheDir: "-", Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	d := want(srv, "cube", "broken", "hstore")
	_, res, err := r.Sync(context.Background(), d)
	var se *StepError
	if !errors.As(err, &se) || se.Step.Package != "broken" || !errors.Is(err, linkage.ErrCannotLoad) {
		t.Fatalf("sync error %v, want a *StepError for broken wrapping linkage.ErrCannotLoad", err)
	}
	if len(res.Installed) != 1 || res.Installed[0].Name != "cube" {
		t.Errorf("installed before the failure: %+v, want cube", res.Installed)
	}
	if diff := cmp.Diff([]string{"cube 1.5"}, installedVersions(t, r)); diff != "" {
		t.Errorf("installed after the failed sync (-want +got):\n%s", diff)
	}

	instPush(t, srv, "ext/broken", "1.0", "broken", 18, instFiles(instExt{name: "broken", version: "1.0"}))
	plan := mustSync(t, r, d)
	if diff := cmp.Diff([]string{"install broken ->1.0", "install hstore ->1.8"}, stepLines(plan)); diff != "" {
		t.Errorf("resumed plan (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"broken 1.0", "cube 1.5", "hstore 1.8"}, installedVersions(t, r)); diff != "" {
		t.Errorf("installed after the resumed sync (-want +got):\n%s", diff)
	}
}

// TestSyncConcurrentInstalls: independent installs run at once and all
// land; the provider of a required extension is committed before the
// package requiring it.
func TestSyncConcurrentInstalls(t *testing.T) {
	srv := syncRegistry(t)
	var names []string
	for _, n := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
		instPush(t, srv, "ext/"+n, "1.0", n, 18, instFiles(instExt{name: n, version: "1.0"}))
		names = append(names, n)
	}
	r, err := Open(context.Background(), RootOptions{Root: t.TempDir(), Target: instTarget(18), CacheDir: t.TempDir(), Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	plan, res, err := r.Sync(context.Background(), want(srv, append(names, "earthdistance", "cube")...))
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, plan)
	}
	var order []string
	for _, p := range res.Installed {
		order = append(order, p.Name)
	}
	if len(order) != 8 {
		t.Errorf("installed %v, want 8 packages", order)
	}
	if idx := func(n string) int { return strings.Index(strings.Join(order, " "), n) }; idx("cube") > idx("earthdistance") {
		t.Errorf("commit order %v: earthdistance before cube, which it requires", order)
	}
}

// TestPrune: Prune removes dependencies nothing requires any more, and
// keeps packages installed for themselves.
func TestPrune(t *testing.T) {
	srv := syncRegistry(t)
	r := syncRoot(t)
	ctx := context.Background()
	for _, ref := range []string{"/ext/earthdistance", "/ext/hstore"} {
		if _, err := r.Install(ctx, srv.Host()+ref, InstallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if removed, err := r.Prune(ctx); err != nil || len(removed) != 0 {
		t.Fatalf("prune with every dependency required: %v, removed %v", err, removed)
	}
	if _, err := r.Uninstall(ctx, "earthdistance", UninstallOptions{}); err != nil {
		t.Fatal(err)
	}
	removed, err := r.Prune(ctx)
	if err != nil || len(removed) != 1 || removed[0].Name != "cube" {
		t.Fatalf("prune: %v, removed %+v; want cube", err, removed)
	}
	if diff := cmp.Diff([]string{"hstore 1.8"}, installedVersions(t, r)); diff != "" {
		t.Errorf("installed after prune (-want +got):\n%s", diff)
	}
}

// TestDesiredInvalid: lists that cannot be planned are ErrDesired, before
// any request.
func TestDesiredInvalid(t *testing.T) {
	r := syncRoot(t)
	for _, d := range []Desired{
		{Extensions: []Wanted{{Name: "cube"}}},
		{Repository: "127.0.0.1:1/ext", Extensions: []Wanted{{Name: "cube"}, {Name: "cube"}}},
		{Repository: "127.0.0.1:1/ext", Extensions: []Wanted{{Name: "../cube"}}},
		{Repository: "127.0.0.1:1/ext", Extensions: []Wanted{{Name: "cube", Version: "~>=1"}}},
		{Repository: "127.0.0.1:1/ext", Extensions: []Wanted{{Name: "cube", Image: "not a reference"}}},
	} {
		if _, err := r.Plan(context.Background(), d); !errors.Is(err, ErrDesired) {
			t.Errorf("Plan(%+v) = %v, want ErrDesired", d, err)
		}
	}
}
