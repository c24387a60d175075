package main

import (
	"fmt"
	"sync"

	"oras.land/oras-go/v2"

	"pgoci/ocilayout"
	"pgoci/resolve"
)

// openTarget opens REF for writing: a registry repository, or an OCI image
// layout directory for oci:DIR (created when missing; safe when several
// pgoci processes write to it at once).
func openTarget(e *env, s string) (oras.Target, resolve.Reference, error) {
	ref, err := resolve.ParseReference(s)
	if err != nil {
		return nil, ref, usagef("%v", err)
	}
	if ref.Layout != "" {
		store, err := ocilayout.New(ref.Layout)
		return store, ref, err
	}
	repo, err := resolve.Remote(ref.Name(), e.remoteOptions())
	return repo, ref, err
}

// remoteOptions configures registry access from the global flags. A
// mirror passed over (down, lacking the content, or serving content that
// fails its digest) is noted on stderr even when the command succeeds:
// an operator must hear of a mirror that serves bad bytes.
func (e *env) remoteOptions() resolve.RemoteOptions {
	o := resolve.RemoteOptions{PlainHTTP: e.plainHTTP, UserAgent: "pgoci-cli", Mirrors: e.mirrors}
	if len(e.mirrors) > 0 {
		var mu sync.Mutex
		o.OnMirrorError = func(err *resolve.MirrorError) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.stderr, "pgoci %s: note: mirror passed over: %v\n", e.command, oneLine(err))
		}
	}
	return o
}
