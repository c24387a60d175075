// Package labels is the pgoci label schema and its reference
// implementation: the keys an extension image carries, their types and
// validation, and the readers that map the keys of other schemas (the
// anchors) onto the same [Metadata].
//
// The schema itself, with one table of every key, the anchor mapping, the
// selection subset and the conformance vector format, is in SPEC.md next
// to this file (schema version 1, namespace "org.pgoci."). The anchors are
// CloudNativePG extension images (io.cloudnativepg.image.*), PGXN trunk
// images (org.pgxn.trunk.*) and the OCI pre-defined annotations
// (org.opencontainers.image.*, see
// https://github.com/opencontainers/image-spec/blob/v1.1.1/annotations.md).
//
// labels imports no other pgoci package; it is pure (no I/O, no context).
//
// # How do I use this package?
//
// Reading: pass the manifest annotations, the index descriptor annotations
// or the config labels (or their union) to [Parse]. It returns every problem
// at once as an *[Error] whose [Problem] entries name the key; test them
// with errors.Is against [ErrInvalidValue], [ErrMissingKey],
// [ErrUnknownKey] and [ErrConflict].
//
//	m, err := labels.Parse(manifest.Annotations)
//	if err != nil {
//		return err // names each bad key
//	}
//	fmt.Println(m.Package.Name, m.PG.Major, m.Libc.Family)
//
// An image labelled only by CloudNativePG still parses: [Metadata.Target]
// gives the server it was built for (PG major, Debian release from the
// base.os codename, glibc version), and [Metadata.Source] says which schema
// each value came from.
//
// Writing: fill a [Metadata] and call [Metadata.Annotations] for the
// manifest and config, [Metadata.SelectionAnnotations] for the descriptor in
// the image index, and optionally [Metadata.CompatAnnotations] so that
// CloudNativePG and plain OCI tools understand the image too.
// [Metadata.Validate] checks a value before it is written.
//
// # Precedence and conflicts
//
// When a value is carried by several keys, pgoci's key wins, then
// CloudNativePG's, PGXN's, OCI's. A key that disagrees with the winner is
// an error ([ErrConflict]), not a warning: a mislabelled image is refused
// before anything is installed, and the message names both keys.
//
// # Unknown keys
//
// Nothing is dropped. Keys in the anchor namespaces are kept in
// [Metadata.Anchors], other foreign keys in [Metadata.Extra], and both are
// written back by [Metadata.Annotations]. An org.pgoci.* key that the
// declared schema version does not define is an error ([ErrUnknownKey]) for
// schema version 1, and is kept in Extra when the image declares a newer
// schema version, whose known keys keep their meaning.
//
// # Platform
//
// The platform (os, architecture, variant) is not a label: it is in the OCI
// platform field of the index descriptor and the config, and callers read
// it there.
package labels
