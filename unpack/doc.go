// Package unpack turns OCI image layers into a directory: it verifies each
// blob's digest and size, decompresses it (gzip, zstd or plain tar, OCI and
// Docker media types), and applies the tar entries, whiteouts included, to a
// root it never leaves.
//
// Everything from a registry is untrusted, so this is the most careful code
// in pgoci. Each layer is read in one streaming pass; the caller never sees
// unverified content, because [Apply] unpacks into a staging directory next
// to the destination and renames it into place only after every layer has
// been verified.
//
// # How do I use this package?
//
// To install a set of layers into a new directory, give [Apply] the
// descriptors (from the image manifest), the diff_ids (from the image
// config; optional) and a way to open each blob:
//
//	layers := []unpack.LayerSource{{
//		Descriptor: manifest.Layers[0],
//		DiffID:     config.RootFS.DiffIDs[0],
//		Open: func(ctx context.Context) (io.ReadCloser, error) {
//			return repo.Fetch(ctx, manifest.Layers[0]) // oras-go
//		},
//	}}
//	stats, err := unpack.Apply(ctx, "/var/lib/pgoci/ext/hstore-1.8", layers, unpack.Options{})
//
// On error the destination does not exist and nothing is left behind.
// Base images with usrmerge links ("lib -> usr/lib") need symlinks in
// parent paths followed, which the zero Options do, inside the root; an
// extension image never does, so installers may set
// [Options.NoSymlinkParents] to refuse them (see the example on [Options]).
//
// To add files of your own before publishing, stage by hand:
//
//	s, err := unpack.Stage(dst)
//	if err != nil { ... }
//	defer s.Discard() // no-op after Commit
//	for _, l := range layers {
//		_, err := unpack.Layer(ctx, s.Root(), blob, l, unpack.Options{})
//		...
//	}
//	err = s.Commit(durable)
//
// After a crash, [CleanStaging] removes leftover staging directories.
//
// # What bad input gets
//
// Each hostile input is refused with an error wrapping one of the sentinels
// in errors.go (an [*EntryError] names the entry, a [*LimitError] the limit)
// or neutralised as documented here; either way nothing outside the root is
// created, changed or removed.
//
//   - Names: a leading "/" is dropped (absolute names are relative to the
//     root); "a/../b" becomes "b"; a name climbing out is [ErrPathEscapes];
//     empty names, a non-directory ".", NUL, invalid UTF-8, components over
//     255 bytes and PAX/GNU long names over 1 MiB are [ErrInvalidName]; path
//     length and depth are limits.
//   - Symlinks: an absolute target is taken as if the root were "/" and
//     rewritten relative to the link; relative targets are cleaned, and one
//     that climbs out of the root (checked from where the link really
//     lands) is [ErrLinkEscapes]. A symlink in an entry's parent path is
//     resolved inside the root, as containerd does, so usrmerge layers work
//     ("lib -> usr/lib", then "lib/x86_64-linux-gnu/libfoo.so" is written
//     to usr/lib/x86_64-linux-gnu): absolute targets from the root, relative
//     ones from the link's directory, ".." from the real path so far. "l ->
//     /" then "l/etc/x", in one layer or two, writes <root>/etc/x. A
//     resolution that would climb above the root (only possible with a link
//     planted in a caller's root, such as "l -> ../..") is refused with
//     [ErrLinkEscapes], never clamped; more than 40 links (a loop) is
//     [ErrSymlinkLoop]. [Options.NoSymlinkParents] refuses every symlinked
//     parent with [ErrSymlinkParent] instead. Resolution walks one component
//     at a time through handles on verified directories (lstat, then open
//     and check it is the same directory), so the kernel never follows a
//     link for a write. The last component of an entry is never followed: a
//     file, link or directory entry over an existing symlink replaces the
//     link (unlink, then O_CREAT|O_EXCL or mkdir), so a later "lib/"
//     directory entry replaces "lib -> usr/lib", as in containerd.
//   - Hardlinks: targets are root-relative (never the working directory) and
//     must be an existing regular file reached through real directories,
//     else [ErrLinkEscapes], [ErrSymlinkParent] (a symlinked parent in the
//     target is refused whatever the options) or [ErrHardlinkTarget]; the
//     link's own name may go through a symlinked parent like any entry. The
//     link entry's mode and owner are never applied (CVE-2021-32760).
//   - Whiteouts: ".wh.<name>" and ".wh..wh..opq" remove only inside the
//     root and never through a symlink: a symlinked parent is
//     [ErrSymlinkParent] whatever the options (".wh.l" removes the link l,
//     not its target); ".wh.", ".wh..", ".wh..." are [ErrWhiteout]; an
//     opaque marker after its siblings keeps this layer's entries; aufs
//     metadata (".wh..wh.*") is skipped.
//   - Metadata: device nodes and fifos are skipped; setuid, setgid and sticky
//     are stripped unless [Options.KeepSpecialBits]; numeric ownership only
//     with [Options.PreserveOwnership] and only as root; no xattrs are ever
//     applied; mtimes are clamped to [1970, 2200); symlink mtimes are not
//     set.
//   - Shape: duplicates, last wins; a directory replaced by a file or a
//     symlink is removed first; a file used as a parent is [ErrNotDir].
//   - Streams: truncation is [ErrTruncated] or [ErrSizeMismatch]; sparse
//     entries are [ErrSparse]; bytes after the compressed stream are
//     [ErrTrailingData]; bytes after the tar end marker are drained into the
//     digest; digest, size and diff_id differences are [ErrDigestMismatch],
//     [ErrSizeMismatch], [ErrDiffIDMismatch]; a media type that is unknown or
//     does not match the bytes is [ErrUnknownMediaType] or
//     [ErrMediaTypeMismatch]. The descriptor size is never used to allocate.
//   - Bombs: [Limits] caps uncompressed bytes, entries, file size, path
//     length, depth and the zstd window, and a compression-ratio guard stops
//     a 100 GB zero-filled layer after 256 MiB, in well under a second.
//
// # Performance
//
// The blob is hashed and decompressed on one goroutine (zstd adds four
// block decoders of its own) and handed in 256 KiB buffers over a bounded
// channel to the tar stage, which resolves each parent through cached
// handles on verified directories and, on Linux, creates and writes each
// file with plain openat(O_CREAT|O_EXCL|O_NOFOLLOW), write, futimens and
// close on the directory's descriptor (no runtime poller per file). Memory
// is about 20 MiB RSS whatever the layer's byte size, plus, for each
// directory the layer creates or changes, its path and some bookkeeping
// (several KiB for paths near [Limits.PathBytes]); [Limits.Entries] counts
// implied parent directories with the entries, so it caps that number. Creating files
// in the kernel is the bound: on a tmpfs destination pgoci runs at about
// GNU tar's speed; on disk both wait on the filesystem. The README has the
// measured figures and scripts/bench-unpack.sh the side-by-side comparison
// with GNU tar, on a generated layer and (PG_TREE=npm) on the real
// PostgreSQL 18 install tree.
//
// Layer media types follow the OCI image spec v1.1:
// https://github.com/opencontainers/image-spec/blob/v1.1.1/layer.md
package unpack
