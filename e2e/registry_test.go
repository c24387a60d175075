//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// privateRegistry is a CNCF distribution registry started by one test,
// on its own loopback port with its own storage, so that the test may
// stop it or configure authentication without disturbing the others.
type privateRegistry struct {
	Host string
	cmd  *exec.Cmd
	log  string
}

// startRegistry starts /usr/bin/docker-registry (Debian's docker-registry
// package, installed by .ci/e2e.sh). With htpasswd set, it requires basic
// authentication against that file. It is killed when the test ends.
func startRegistry(t *testing.T, htpasswd string) *privateRegistry {
	t.Helper()
	var auth string
	if htpasswd != "" {
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: pgoci-e2e\n    path: %s\n", htpasswd)
	}
	r, _ := launchRegistry(t, auth, false)
	return r
}

// launchRegistry starts /usr/bin/docker-registry with extra appended to
// its configuration (auth with extra starting "auth:") and, with
// accessLog, its access log on. It returns the registry and its storage
// directory; the registry is killed when the test ends, and its log shown
// when the test failed.
func launchRegistry(t *testing.T, extra string, accessLog bool) (*privateRegistry, string) {
	t.Helper()
	const bin = "/usr/bin/docker-registry"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: run the suite with bash .ci/e2e.sh", err)
	}
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	r := &privateRegistry{Host: fmt.Sprintf("127.0.0.1:%d", freePort(t)), log: filepath.Join(dir, "registry.log")}
	logConf := "log:\n  level: warn\n"
	if accessLog {
		logConf += "  accesslog:\n    disabled: false\n"
	}
	conf := fmt.Sprintf("version: 0.1\n%sstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n%s", logConf, storage, r.Host, extra)
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	r.cmd = exec.Command(bin, "serve", cfg)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Kill(t)
		if t.Failed() {
			if b, err := os.ReadFile(r.log); err == nil {
				t.Logf("registry log %s:\n%s", r.log, b)
			}
		}
	})
	r.waitUp(t, strings.HasPrefix(extra, "auth:"))
	return r, storage
}

// waitUp polls /v2/ until the registry answers (401 counts when it wants
// credentials).
func (r *privateRegistry) waitUp(t *testing.T, auth bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get("http://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || (auth && resp.StatusCode == http.StatusUnauthorized) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(r.log)
	t.Fatalf("registry %s did not start; log:\n%s", r.Host, b)
}

// Kill stops the registry at once (SIGKILL), as a crash or a network cut
// would, and waits for it to exit.
func (r *privateRegistry) Kill(t *testing.T) {
	t.Helper()
	if r.cmd.ProcessState != nil {
		return
	}
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil && !strings.Contains(err.Error(), "finished") {
		t.Errorf("kill registry: %v", err)
	}
	r.cmd.Wait()
}
