package main

import (
	"oras.land/oras-go/v2"

	"pgoci/internal/ocilayout"
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

func (e *env) remoteOptions() resolve.RemoteOptions {
	return resolve.RemoteOptions{PlainHTTP: e.plainHTTP, UserAgent: "pgoci-cli"}
}
