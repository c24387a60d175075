package testregistry

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// FaultKind says what an injected [Fault] does to a matching request.
type FaultKind int

const (
	// FaultStatus answers with [Fault.Status] (default 503) and an OCI
	// error body instead of serving the request.
	FaultStatus FaultKind = iota + 1
	// FaultReset hijacks the connection and closes it (with a TCP reset
	// where possible) without sending a response.
	FaultReset
	// FaultTruncate serves the request but sends only the first half of
	// the response body, then aborts the connection, so the client reads
	// fewer bytes than Content-Length announced.
	FaultTruncate
	// FaultCorrupt serves the request with the first body byte inverted;
	// the length is unchanged, so only a digest check notices.
	FaultCorrupt
	// FaultDelay waits [Fault.Delay] (or until the client gives up) and
	// then serves the request normally.
	FaultDelay
)

// Fault is a rule that perturbs the next matching requests. Faults are
// checked in the order they were added; the first match applies and uses
// up one of its Times.
type Fault struct {
	// Kind is what happens to a matching request. Required.
	Kind FaultKind
	// Method matches the request method; empty matches any.
	Method string
	// Path is a regular expression matched against the URL path (for
	// example `/blobs/sha256:`); empty matches any path.
	Path string
	// Times is how many matching requests the fault affects. Zero means
	// one; a negative value means every matching request until
	// [Registry.ClearFaults].
	Times int
	// Status is the status of a [FaultStatus] response; zero means 503.
	Status int
	// Delay is the wait of a [FaultDelay].
	Delay time.Duration
}

// faultState is an installed fault with its compiled pattern and the
// number of uses left (negative: unlimited).
type faultState struct {
	Fault
	path *regexp.Regexp
	left int
}

// AddFault installs f. It returns an error wrapping [ErrInvalidFault]
// for an unknown kind or a path pattern that does not compile.
func (r *Registry) AddFault(f Fault) error {
	if f.Kind < FaultStatus || f.Kind > FaultDelay {
		return fmt.Errorf("%w: unknown kind %d", ErrInvalidFault, f.Kind)
	}
	fs := &faultState{Fault: f, left: f.Times}
	if f.Path != "" {
		re, err := regexp.Compile(f.Path)
		if err != nil {
			return fmt.Errorf("%w: path pattern %q: %v", ErrInvalidFault, f.Path, err)
		}
		fs.path = re
	}
	if fs.left == 0 {
		fs.left = 1
	}
	r.mu.Lock()
	r.faults = append(r.faults, fs)
	r.mu.Unlock()
	return nil
}

// ClearFaults removes every installed fault.
func (r *Registry) ClearFaults() {
	r.mu.Lock()
	r.faults = nil
	r.mu.Unlock()
}

// takeFault returns the first fault matching req and uses it up once.
func (r *Registry) takeFault(req *http.Request) *Fault {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, fs := range r.faults {
		if fs.Method != "" && fs.Method != req.Method {
			continue
		}
		if fs.path != nil && !fs.path.MatchString(req.URL.Path) {
			continue
		}
		f := fs.Fault
		if fs.left > 0 {
			fs.left--
			if fs.left == 0 {
				r.faults = append(r.faults[:i:i], r.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

// applyFault runs the fault matching req, if any. It reports true when
// the request has been fully handled by the fault.
func (r *Registry) applyFault(w *recorder, req *http.Request) bool {
	f := r.takeFault(req)
	if f == nil {
		return false
	}
	switch f.Kind {
	case FaultStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		writeError(w, status, codeForStatus(status), "injected fault: status "+strconv.Itoa(status))
		return true
	case FaultReset:
		resetConn(w)
		return true
	case FaultDelay:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-req.Context().Done():
		}
		return false
	default: // FaultTruncate, FaultCorrupt
		bf := &bodyFault{ResponseWriter: w, kind: f.Kind}
		r.serveAuthorized(bf, req)
		bf.finish()
		return true
	}
}

// resetConn drops the connection under w without a response.
func resetConn(w *recorder) {
	w.logStatus(0)
	conn, _, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		// HTTP/2 cannot be hijacked; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // send RST rather than FIN
	}
	_ = conn.Close()
}

// bodyFault truncates or corrupts the body written through it.
type bodyFault struct {
	http.ResponseWriter
	kind      FaultKind
	limit     int64 // truncate: body bytes allowed through
	written   int64
	truncated bool
	started   bool
}

func (b *bodyFault) WriteHeader(code int) {
	if !b.started {
		b.started = true
		cl, err := strconv.ParseInt(b.Header().Get("Content-Length"), 10, 64)
		if err == nil {
			b.limit = cl / 2
		}
	}
	b.ResponseWriter.WriteHeader(code)
}

func (b *bodyFault) Write(p []byte) (int, error) {
	if !b.started {
		b.WriteHeader(http.StatusOK)
	}
	n := len(p)
	switch b.kind {
	case FaultTruncate:
		if allowed := b.limit - b.written; int64(len(p)) > allowed {
			p = p[:max(allowed, 0)]
			b.truncated = true
		}
	case FaultCorrupt:
		if b.written == 0 && len(p) > 0 {
			p = append([]byte{p[0] ^ 0xff}, p[1:]...)
		}
	}
	b.written += int64(n)
	if len(p) > 0 {
		if _, err := b.ResponseWriter.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// finish tears the connection down after a truncated body, so the client
// sees an unexpected EOF rather than a short but complete response.
func (b *bodyFault) finish() {
	if b.kind == FaultTruncate && b.truncated {
		http.NewResponseController(b.ResponseWriter).Flush()
		panic(http.ErrAbortHandler)
	}
}

// Request is one entry of the request log.
type Request struct {
	Method string
	// Path is the URL path, Query the raw query string.
	Path  string
	Query string
	// Status is the status sent; 0 when the connection was reset.
	Status int
}

// Requests returns a copy of the log of requests served so far, oldest
// first, including those answered by a fault or an auth challenge.
func (r *Registry) Requests() []Request {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return append([]Request(nil), r.log...)
}

// ResetRequests empties the request log.
func (r *Registry) ResetRequests() {
	r.logMu.Lock()
	r.log = nil
	r.logMu.Unlock()
}

// record appends to the log. It takes its own lock, not r.mu, because
// handlers write their responses (and so log them) while holding r.mu.
func (r *Registry) record(req *http.Request, status int) {
	r.logMu.Lock()
	r.log = append(r.log, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Status: status})
	r.logMu.Unlock()
}

// recorder logs a request as soon as its status is known, before any
// byte of the response leaves: a client that has read the response always
// finds its request in the log.
type recorder struct {
	http.ResponseWriter
	reg      *Registry
	req      *http.Request
	recorded bool
}

// logStatus logs the request once, with status (0 for a reset).
func (w *recorder) logStatus(status int) {
	if !w.recorded {
		w.recorded = true
		w.reg.record(w.req, status)
	}
}

func (w *recorder) WriteHeader(code int) {
	w.logStatus(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	w.logStatus(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Unwrap lets http.ResponseController reach Flush.
func (b *bodyFault) Unwrap() http.ResponseWriter { return b.ResponseWriter }
