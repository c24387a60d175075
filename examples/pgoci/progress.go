package main

import (
	"fmt"
	"sync"
	"time"
)

// progress draws one self-overwriting line on a terminal; elsewhere it
// stays quiet.
type progress struct {
	e     *env
	label string
	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func newProgress(e *env, label string) *progress { return &progress{e: e, label: label} }

// update is an unpack.Options.Progress / extension event hook: bytes done
// of total (total 0 = unknown). Redraws at most ten times a second.
func (p *progress) update(done, total int64) {
	if !p.e.progress {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done == total {
		p.last = now
		p.drawn = true
		if total > 0 {
			fmt.Fprintf(p.e.stderr, "\r%s %s / %s (%d%%)   ", p.label, mib(done), mib(total), done*100/total)
		} else {
			fmt.Fprintf(p.e.stderr, "\r%s %s   ", p.label, mib(done))
		}
	}
}

// done ends the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.e.stderr)
		p.drawn = false
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
