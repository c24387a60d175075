package testregistry_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"pgoci/internal/testregistry"
)

func TestFaults(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	d := digest.FromBytes(data)
	blobPath := "/v2/r/blobs/" + d.String()
	type result struct {
		status  int
		body    []byte
		readErr error
		doErr   error
		elapsed time.Duration
	}
	// A fresh connection per request: on a reused connection net/http
	// silently retries an idempotent request that met a reset.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(srv *testregistry.Server, method, path string) result {
		start := time.Now()
		req, _ := http.NewRequest(method, srv.URL()+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			return result{doErr: err, elapsed: time.Since(start)}
		}
		defer resp.Body.Close()
		body, rerr := io.ReadAll(resp.Body)
		return result{status: resp.StatusCode, body: body, readErr: rerr, elapsed: time.Since(start)}
	}
	tests := []struct {
		name  string
		fault testregistry.Fault
		check func(t *testing.T, srv *testregistry.Server, first, second result)
	}{
		{name: "status default 503", fault: testregistry.Fault{Kind: testregistry.FaultStatus},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 503 || second.status != 200 {
					t.Errorf("statuses = %d, %d; want 503 then 200", first.status, second.status)
				}
			}},
		{name: "status 429 twice", fault: testregistry.Fault{Kind: testregistry.FaultStatus, Status: 429, Times: 2},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 429 || second.status != 429 {
					t.Errorf("statuses = %d, %d; want 429 twice", first.status, second.status)
				}
			}},
		{name: "status for every request", fault: testregistry.Fault{Kind: testregistry.FaultStatus, Status: 500, Times: -1},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 500 || second.status != 500 {
					t.Errorf("statuses = %d, %d; want 500 twice", first.status, second.status)
				}
			}},
		{name: "method does not match", fault: testregistry.Fault{Kind: testregistry.FaultStatus, Method: "HEAD"},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 200 {
					t.Errorf("status = %d, want 200: the fault is for HEAD", first.status)
				}
			}},
		{name: "path does not match", fault: testregistry.Fault{Kind: testregistry.FaultStatus, Path: "/manifests/"},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 200 {
					t.Errorf("status = %d, want 200: the fault is for manifests", first.status)
				}
			}},
		{name: "path matches", fault: testregistry.Fault{Kind: testregistry.FaultStatus, Method: "GET", Path: `/blobs/sha256:`},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 503 {
					t.Errorf("status = %d, want 503", first.status)
				}
			}},
		{name: "reset", fault: testregistry.Fault{Kind: testregistry.FaultReset},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.doErr == nil {
					t.Errorf("request succeeded with status %d, want a connection error", first.status)
				}
				if log := srv.Requests(); log[len(log)-2].Status != 0 {
					t.Errorf("reset request logged with status %d, want 0", log[len(log)-2].Status)
				}
				if second.status != 200 {
					t.Errorf("second status = %d, want 200", second.status)
				}
			}},
		{name: "truncate", fault: testregistry.Fault{Kind: testregistry.FaultTruncate},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if !errors.Is(first.readErr, io.ErrUnexpectedEOF) {
					t.Errorf("read error = %v, want unexpected EOF", first.readErr)
				}
				if string(first.body) != string(data[:len(data)/2]) {
					t.Errorf("truncated body = %q, want the first half", first.body)
				}
				if string(second.body) != string(data) {
					t.Errorf("second body = %q, want it whole", second.body)
				}
			}},
		{name: "corrupt", fault: testregistry.Fault{Kind: testregistry.FaultCorrupt},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 200 || len(first.body) != len(data) || first.readErr != nil {
					t.Fatalf("corrupt response: status %d, %d bytes, err %v", first.status, len(first.body), first.readErr)
				}
				if digest.FromBytes(first.body) == d {
					t.Error("corrupted body still matches its digest")
				}
				if digest.FromBytes(second.body) != d {
					t.Error("second body is corrupted too")
				}
			}},
		{name: "delay", fault: testregistry.Fault{Kind: testregistry.FaultDelay, Delay: 150 * time.Millisecond},
			check: func(t *testing.T, srv *testregistry.Server, first, second result) {
				if first.status != 200 || first.elapsed < 150*time.Millisecond {
					t.Errorf("status %d after %v, want 200 after >= 150ms", first.status, first.elapsed)
				}
				if second.elapsed >= 150*time.Millisecond {
					t.Errorf("second request also delayed (%v)", second.elapsed)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t, testregistry.Options{})
			pushBlob(t, srv, "r", data)
			if err := srv.AddFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			first := get(srv, "GET", blobPath)
			second := get(srv, "GET", blobPath)
			tc.check(t, srv, first, second)
		})
	}
}

func TestAddFaultInvalid(t *testing.T) {
	reg := testregistry.New(testregistry.Options{})
	for name, f := range map[string]testregistry.Fault{
		"no kind":     {},
		"bad pattern": {Kind: testregistry.FaultStatus, Path: "("},
	} {
		t.Run(name, func(t *testing.T) {
			if err := reg.AddFault(f); !errors.Is(err, testregistry.ErrInvalidFault) {
				t.Errorf("AddFault error = %v, want ErrInvalidFault", err)
			}
		})
	}
}

func TestClearFaults(t *testing.T) {
	srv := start(t, testregistry.Options{})
	if err := srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Times: -1}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, "GET", srv.URL()+"/v2/", nil, nil); resp.StatusCode != 503 {
		t.Fatalf("status = %d, want 503", resp.StatusCode)
	}
	srv.ClearFaults()
	if resp, _ := do(t, "GET", srv.URL()+"/v2/", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("status after ClearFaults = %d, want 200", resp.StatusCode)
	}
}

func TestRequestLog(t *testing.T) {
	srv := start(t, testregistry.Options{})
	pushBlob(t, srv, "r", []byte("x"))
	_ = srv.AddFault(testregistry.Fault{Kind: testregistry.FaultStatus, Status: 502})
	do(t, "GET", srv.URL()+"/v2/r/tags/list?n=1", nil, nil)
	do(t, "HEAD", srv.URL()+"/v2/r/blobs/"+digest.FromString("x").String(), nil, nil)
	got := srv.Requests()
	want := []testregistry.Request{
		{Method: "POST", Path: "/v2/r/blobs/uploads/", Query: "digest=" + digest.FromString("x").String(), Status: 201},
		{Method: "GET", Path: "/v2/r/tags/list", Query: "n=1", Status: 502},
		{Method: "HEAD", Path: "/v2/r/blobs/" + digest.FromString("x").String(), Status: 200},
	}
	if len(got) != len(want) {
		t.Fatalf("log = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	srv.ResetRequests()
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d entries after ResetRequests", n)
	}
}

// TestConcurrent pushes and reads from many goroutines while faults are
// added and the log is read; run with -race.
func TestConcurrent(t *testing.T) {
	srv := start(t, testregistry.Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				data := []byte{byte(i), byte(j)}
				d := digest.FromBytes(data)
				resp, err := http.Post(srv.URL()+"/v2/r/blobs/uploads/?digest="+d.String(), "application/octet-stream", bytesReader(data))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				_ = srv.AddFault(testregistry.Fault{Kind: testregistry.FaultDelay, Path: "/nothing"})
				_ = srv.Requests()
				if resp, err = http.Get(srv.URL() + "/v2/r/blobs/" + d.String()); err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	if n := len(srv.Requests()); n != 160 {
		t.Errorf("logged %d requests, want 160", n)
	}
}
