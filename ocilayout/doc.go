// Package ocilayout is an OCI image layout directory store that several
// goroutines and several processes can write at the same time: the
// destination of pgoci's copies to air-gapped sites, and the store to pack
// into when the images go to a directory rather than a registry.
//
// The layout is the one the image spec defines
// (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-layout.md):
// an oci-layout file, index.json, and blobs/<algorithm>/<hex>. Tags are the
// org.opencontainers.image.ref.name annotations of index.json entries, so
// skopeo, oras, umoci and oras-go's [oras.land/oras-go/v2/content/oci]
// read what [Store] writes, and Store reads what they write.
//
// # How do I use this package?
//
// Open or create a layout with [New] and use it wherever oras-go takes a
// target ([oras.land/oras-go/v2.Target]): as the destination of a copy,
// or as the store pgoci's extension.Pack and extension.PushIndex write to.
//
//	st, err := ocilayout.New("/srv/mirror/hstore")
//	desc, err := oras.Copy(ctx, repo, "1.8", st, "1.8", oras.DefaultCopyOptions)
//	d, err := st.Resolve(ctx, "1.8")
//
// [Open] opens a layout that must exist already (a typo in a path is then
// [ErrNotLayout], not a new empty layout). Store implements oras-go's
// Target (Fetch, Exists, Push, Resolve, Tag) and TagLister (Tags), and
// adds [Store.Untag] and [Store.Index].
//
// # Why not oras-go's oci.New
//
// [oras.land/oras-go/v2/content/oci.New] loads index.json into memory
// when it opens the layout and writes the whole of that memory back on
// every Tag, without a lock and in place. Two writers of one layout (two
// processes copying two repositories into one mirror, or two build jobs
// packing two architectures) therefore lose each other's tags: the
// second writer's index.json knows nothing of the first writer's tag, and
// a reader can see a half-written file. TestOrasLosesTags in this
// package's tests shows it with two handles on one directory.
//
// # What Store guarantees
//
//   - Every blob is written to a temporary file in its own directory,
//     verified against its descriptor's digest and size while it is
//     written, synced, and renamed into place: a blob in the layout
//     always hashes to its name, and a failed or cancelled Push leaves
//     nothing behind. A blob that exists already is a success.
//   - index.json is updated under an exclusive flock(2) on
//     index.json.lock: the file is read again under the lock, changed,
//     written to a temporary file, synced and renamed over index.json.
//     No tag is lost, whichever goroutine or process wrote it, and no
//     reader ever sees a partial index.json.
//   - Reads take no lock, since index.json and blobs only ever change by
//     rename.
//   - [Store.Fetch] verifies the content against the descriptor as it is
//     read: a blob changed on disk is an error wrapping [ErrDigest] or
//     [ErrSize] at the end of the stream, never a silent success.
//     [Store.Exists] hashes small blobs (manifests, indexes, configs) so
//     that a copy never skips a graph under a damaged root.
//   - Paths come from validated digests only; blob directories and the
//     lock file are never followed through a symbolic link planted in
//     the layout.
//   - A manifest pushed with a subject field (a signature, SBOM or
//     attestation) gets an untagged index.json entry, so that it stays
//     reachable and readers that find referrers from index.json see it.
//
// Leftover temporary files (".tmp-*" in blob directories, ".index.json-*")
// are only left by a process killed mid-write; they are never read and are
// safe to delete.
//
// # Other systems
//
// flock(2) exists on Linux, macOS and the BSDs. Elsewhere (Windows) reads
// work, and so do blob pushes, but every change to index.json (Tag, Untag,
// a manifest with a subject) fails with [ErrLock] rather than risk losing
// another writer's tags.
package ocilayout
