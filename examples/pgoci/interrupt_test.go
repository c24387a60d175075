//go:build unix

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pgoci/internal/demo"
	"pgoci/internal/testregistry"
)

// TestInterrupt runs the built binary, since signals and exit statuses
// belong to a process.
func TestInterrupt(t *testing.T) {
	bin := buildCLI(t)
	t.Run("first cancels and cleans up", func(t *testing.T) { testFirstInterrupt(t, bin) })
	t.Run("second exits at once", func(t *testing.T) { testSecondInterrupt(t, bin) })
}

// testFirstInterrupt: Ctrl-C during a slow blob download stops unpack,
// which leaves no DIR behind, and exits 130.
func testFirstInterrupt(t *testing.T, bin string) {
	srv := serveRegistry(t)
	ref := srv.Host() + "/ext/pgoci_demo:" + demo.Version
	mustRun(t, append([]string{"pack", demoDir(t, "amd64"), ref}, packFlags("amd64")...)...)
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultDelay, Method: "GET", Path: "/blobs/", Times: -1, Delay: time.Minute}); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	dst := filepath.Join(t.TempDir(), "root")
	p := start(t, bin, "unpack", "--platform", "linux/amd64", ref, dst)
	waitFor(t, "the manifest request", func() bool { return manifestFetched(srv) })
	time.Sleep(200 * time.Millisecond) // into the delayed blob request
	p.signal(t)
	code := p.wait(t, 10*time.Second)
	if code != 130 || !strings.Contains(p.stderr.String(), "interrupted") {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, p.stderr.String())
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("an interrupted unpack left %s: %v", dst, err)
	}
}

func manifestFetched(srv *testregistry.Server) bool {
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/manifests/") {
			return true
		}
	}
	return false
}

// testSecondInterrupt: when stopping is stuck (here a pg_config whose
// child keeps its output open after it is killed), a second Ctrl-C exits
// at once.
func testSecondInterrupt(t *testing.T, bin string) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	pgConfig := filepath.Join(dir, "pg_config")
	script := "#!/bin/sh\nsleep 60 &\necho $! >" + pidFile + "\nwait\n"
	if err := os.WriteFile(pgConfig, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killChild(pidFile) })
	p := start(t, bin, "resolve", "oci:"+dir+":v1", "--pg-config", pgConfig)
	waitFor(t, "pg_config to start", func() bool { _, err := os.Stat(pidFile); return err == nil })
	p.signal(t)
	waitFor(t, "the first interrupt", func() bool { return strings.Contains(p.stderr.String(), "interrupted") })
	time.Sleep(300 * time.Millisecond)
	if p.exited() {
		t.Skip("the command stopped at the first interrupt: nothing left to test")
	}
	p.signal(t)
	if code := p.wait(t, 5*time.Second); code != 130 {
		t.Errorf("exit %d after the second interrupt, want 130; stderr:\n%s", code, p.stderr.String())
	}
}

func killChild(pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func buildCLI(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the binary with")
	}
	bin := filepath.Join(t.TempDir(), "pgoci")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is the running binary.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *process) signal(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait returns the exit status, failing the test when the process takes
// longer than limit.
func (p *process) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		t.Fatalf("still running %s after the interrupt; stderr:\n%s", limit, p.stderr.String())
		return 0
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// syncBuffer is a bytes.Buffer that the process writes to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
