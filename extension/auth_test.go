package extension

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"pgoci/internal/testregistry"
	"pgoci/resolve"
)

// TestAuthErrorsSayWhatToDo: without credentials, Inspect, Copy and
// Install fail with resolve.ErrUnauthorized naming the registry.
func TestAuthErrorsSayWhatToDo(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/cube", "1.5", "cube", 18, instFiles(instExt{name: "cube", version: "1.5"}))
	srv.SetAuth(testregistry.Auth{Mode: testregistry.AuthBasic, Username: "pg", Password: "secret"})
	ref := srv.Host() + "/ext/cube:1.5"
	noCreds := resolve.RemoteOptions{CredentialsFile: filepath.Join(t.TempDir(), "none.json")}
	ctx := context.Background()
	_, inspectErr := Inspect(ctx, ref, InspectOptions{Remote: noCreds})
	_, copyErr := Copy(ctx, ref, "oci:"+filepath.Join(t.TempDir(), "mirror")+":1.5", CopyOptions{Remote: noCreds})
	opts := instOptions(t, filepath.Join(t.TempDir(), "root"))
	opts.Remote = noCreds
	_, installErr := installAt(ctx, ref, instTarget(18), opts)
	for name, err := range map[string]error{"inspect": inspectErr, "copy": copyErr, "install": installErr} {
		if !errors.Is(err, resolve.ErrUnauthorized) || !strings.Contains(err.Error(), srv.Host()) {
			t.Errorf("%s: err = %v, want resolve.ErrUnauthorized naming %s", name, err, srv.Host())
		}
	}
}
