package extension_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"pgoci/extension"
	"pgoci/internal/testregistry"
)

// An operator's reconcile: open the server's install root once, then on
// every change of the wanted list (and on a timer) sync to it. The first
// sync installs, the next finds nothing to do without asking the
// registry, and an emptied list removes what nothing wants any more.
func Example_sync() {
	srv, _ := testregistry.Serve(testregistry.Options{})
	defer srv.Close()
	installExamplePush(srv) // <registry>/ext/pgoci_demo:1.1.0
	dir, _ := os.MkdirTemp("", "pgoci-root-")
	defer os.RemoveAll(dir)

	ctx := context.Background()
	root, err := extension.Open(ctx, extension.RootOptions{Root: dir, Target: installExampleServer, CacheDir: "-"})
	if err != nil {
		log.Fatal(err)
	}
	wanted := extension.Desired{
		Repository: srv.Host() + "/ext",
		Extensions: []extension.Wanted{{Name: "pgoci_demo", Version: "~1.1"}},
	}
	reconcile := func(d extension.Desired) {
		srv.ResetRequests()
		plan, _, err := root.Sync(ctx, d)
		if err != nil {
			log.Fatal(err) // a *StepError: retry later, the next sync continues
		}
		fmt.Printf("%s(%d registry requests)\n", planSummary(plan), len(srv.Requests()))
	}
	reconcile(wanted)
	reconcile(wanted)
	reconcile(extension.Desired{})
	// Output:
	// install pgoci_demo 1.1.0 (5 registry requests)
	// nothing to do (0 registry requests)
	// remove pgoci_demo 1.1.0 (0 registry requests)
}

// planSummary is the plan's steps as "action package version".
func planSummary(p extension.Plan) string {
	if p.Empty() {
		return "nothing to do "
	}
	var b strings.Builder
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "%s %s %s ", s.Action, s.Package, s.To+s.From)
	}
	return b.String()
}
