package ocilayout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// writeTags pushes n distinct blobs and tags each "<who>-<i>", the way a
// copy into a shared mirror does; every writer also pushes one shared
// blob, racing the others for the same file.
func writeTags(ctx context.Context, s *Store, who string, n int) error {
	shared := []byte("shared between every writer")
	for i := range n {
		if err := s.Push(ctx, blob("application/octet-stream", shared), bytes.NewReader(shared)); err != nil {
			return err
		}
		b := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{"who":%q,"i":"%d"}}`,
			ocispec.MediaTypeImageManifest, who, i))
		d := blob(ocispec.MediaTypeImageManifest, b)
		if err := s.Push(ctx, d, bytes.NewReader(b)); err != nil {
			return err
		}
		if err := s.Tag(ctx, d, fmt.Sprintf("%s-%d", who, i)); err != nil {
			return err
		}
	}
	return nil
}

// watchIndex reads index.json without a lock until stop is closed and
// reports the first read that is not a valid image index.
func watchIndex(t *testing.T, dir string, stop <-chan struct{}) (reads *atomic.Int64, done func() error) {
	t.Helper()
	reads = new(atomic.Int64)
	errc := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				errc <- nil
				return
			default:
			}
			b, err := os.ReadFile(filepath.Join(dir, "index.json"))
			if err != nil {
				errc <- err
				return
			}
			var idx ocispec.Index
			if err := json.Unmarshal(b, &idx); err != nil || idx.SchemaVersion != 2 {
				errc <- fmt.Errorf("index.json read %d is not a valid index: %v: %q", reads.Load(), err, b)
				return
			}
			reads.Add(1)
		}
	}()
	return reads, func() error { return <-errc }
}

func checkAllTags(t *testing.T, s *Store, writers, n int) {
	t.Helper()
	var tags []string
	if err := s.Tags(context.Background(), "", func(ts []string) error { tags = ts; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(tags) != writers*n {
		t.Errorf("%d tags in index.json, want %d: lost updates", len(tags), writers*n)
	}
	for w := range writers {
		for i := range n {
			if _, err := s.Resolve(context.Background(), fmt.Sprintf("w%d-%d", w, i)); err != nil {
				t.Errorf("tag lost: %v", err)
			}
		}
	}
	if got := leftovers(t, s.Dir()); len(got) != 0 {
		t.Errorf("temporary files left: %v", got)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	const writers, n = 8, 15
	dir := t.TempDir()
	// Create the layout first so the watcher finds index.json.
	if _, err := New(dir + "/layout"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	reads, watchDone := watchIndex(t, dir+"/layout", stop)
	// Every writer opens its own Store, as separate programs would.
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			s, err := New(dir + "/layout")
			if err == nil {
				err = writeTags(context.Background(), s, fmt.Sprintf("w%d", w), n)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if err := watchDone(); err != nil {
		t.Error(err)
	}
	t.Logf("%d lock-free reads of index.json while writing, all valid", reads.Load())
	s, _ := Open(dir + "/layout")
	checkAllTags(t, s, writers, n)
}

const childEnv = "OCILAYOUT_TEST_WRITER"

// TestMain lets TestConcurrentProcesses re-execute the test binary as a
// writer process.
func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		os.Exit(childWriter(v))
	}
	os.Exit(m.Run())
}

// childWriter runs in a child process: "DIR WHO N".
func childWriter(arg string) int {
	var dir, who string
	var n int
	if _, err := fmt.Sscan(arg, &dir, &who, &n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	s, err := New(dir)
	if err == nil {
		err = writeTags(context.Background(), s, who, n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestConcurrentProcesses(t *testing.T) {
	const writers, n = 4, 20
	dir := filepath.Join(t.TempDir(), "layout") // created by the children, racing
	stop := make(chan struct{})
	var cmds []*exec.Cmd
	for w := range writers {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir+" w"+strconv.Itoa(w)+" "+strconv.Itoa(n))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if stderr.Len() > 0 {
				t.Logf("writer %d: %s", w, stderr.String())
			}
		})
	}
	// Watch once a child has created index.json.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no writer created the layout in 30s")
		}
	}
	reads, watchDone := watchIndex(t, dir, stop)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	close(stop)
	if err := watchDone(); err != nil {
		t.Error(err)
	}
	t.Logf("%d lock-free reads of index.json while %d processes wrote, all valid", reads.Load(), writers)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkAllTags(t, s, writers, n)
}
