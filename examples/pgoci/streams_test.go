package main

import (
	"strings"
	"testing"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

func serveRegistry(t *testing.T) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestResolveStdoutIsTheReference: ref=$(pgoci resolve ...) gets the
// reference and nothing else, whatever resolve has to say.
func TestResolveStdoutIsTheReference(t *testing.T) {
	srv := serveRegistry(t)
	repo := srv.Host() + "/ext/pgoci_demo"
	ref := repo + ":" + demo.Version
	mustRun(t, append([]string{"pack", demoDir(t), ref}, packFlags("amd64")...)...)
	packed := mustRun(t, append([]string{"pack", demoDir(t), ref}, packFlags("arm64")...)...)
	_, digest, _ := strings.Cut(strings.SplitN(packed, "\n", 2)[0], ": ") // packed ...: sha256:...

	// No --libc: the libc is a note; amd64 passed over is another.
	code, out, errOut := pgoci(t, "resolve", ref, "--pg-major", "18", "--platform", "linux/arm64")
	if code != 0 || out != repo+"@"+digest+"\n" {
		t.Errorf("resolve: exit %d, stdout %q, want %q", code, out, repo+"@"+digest+"\n")
	}
	for _, want := range []string{"pgoci resolve: note: ", "1 other candidate(s) rejected"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("resolve stderr lacks %q:\n%s", want, errOut)
		}
	}

	code, out, errOut = pgoci(t, "resolve", ref, "--pg-major", "17", "--platform", "linux/arm64")
	if code != 1 || out != "" {
		t.Errorf("resolve of a miss: exit %d, stdout %q; want 1 and nothing", code, out)
	}
	for _, want := range []string{"linux/amd64 sha256:", "pg.major: want 17, found 18", "no image fits"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("resolve of a miss: stderr lacks %q:\n%s", want, errOut)
		}
	}
}
