// Package ocilayout is an OCI image layout directory store that several
// goroutines and several processes can write at the same time: the
// destination of pgoci's copies to air-gapped sites.
//
// The layout is the one the image spec defines
// (https://github.com/opencontainers/image-spec/blob/v1.1.1/image-layout.md):
// an oci-layout file, index.json, and blobs/<algorithm>/<hex>. Tags are the
// org.opencontainers.image.ref.name annotations of index.json entries, so
// skopeo, oras, umoci and oras-go's content/oci read what [Store] writes,
// and Store reads what they write.
//
// # Why not oras-go's content/oci
//
// oras-go's OCI store keeps index.json in memory and rewrites it in place
// without a lock: two processes tagging the same layout lose each other's
// tags, and a reader can see a half-written file. Store instead:
//
//   - writes each blob to a temporary file in its own directory, verifies
//     the digest and size while writing, syncs it and renames it into place
//     (a blob that exists already is a success);
//   - updates index.json under an exclusive flock(2) on index.json.lock:
//     it re-reads the file under the lock, changes it, writes a temporary
//     file, syncs it and renames it over index.json, so no tag is lost and
//     no reader ever sees a partial index.json;
//   - reads without a lock, since index.json and blobs only ever change by
//     rename;
//   - verifies what Fetch returns while it is read.
//
// Leftover temporary files (".tmp-*" in blob directories, ".index.json-*")
// are only left by a process killed mid-write; they are never read and are
// safe to delete.
//
// # How do I use this package?
//
// Open or create a layout and use it as an oras-go target:
//
//	st, err := ocilayout.New("/srv/mirror/hstore")
//	desc, err := oras.Copy(ctx, repo, "1.8", st, "1.8", oras.DefaultCopyOptions)
//	d, err := st.Resolve(ctx, "1.8")
//
// Store implements oras.Target (Fetch, Exists, Push, Resolve, Tag) and
// Tags. A manifest pushed with a subject field (a signature, SBOM or
// attestation) gets an untagged index.json entry, so that it stays reachable
// and readers that find referrers from index.json see it.
package ocilayout
