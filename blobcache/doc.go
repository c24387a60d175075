// Package blobcache is a content-addressed cache of OCI blobs (layers,
// configs, manifests, indexes) in one directory, bounded in size and shared
// safely by the processes that fill, read and prune it at the same time.
// pgoci's installer fetches through it (extension.RootOptions.CacheDir,
// or a [*Cache] as extension.RootOptions.Cache).
//
// # How do I use this package?
//
//	dir, err := blobcache.DefaultDir()                      // $PGOCI_CACHE_DIR, the user cache dir, or a private temp dir
//	c, err := blobcache.Open(dir, blobcache.Options{MaxSize: 2 << 30}) // at most 2 GiB of blobs
//	err = c.Push(ctx, desc, body)                           // kept only if body hashes to desc
//	rc, err := c.Fetch(ctx, desc)                           // errors.Is(err, blobcache.ErrNotFound) on a miss
//	res, err := c.Prune(ctx, 500<<20)                       // down to 500 MiB, least recently used first
//
// [Cache.Fetch], [Cache.Push], [Cache.Exists] and [Cache.Delete] have the
// signatures of oras-go's content interfaces, so a Cache is an oras-go
// content.Storage.
//
// # On disk
//
//	<dir>/blobs/<algorithm>/<hex>   one file per blob, named by its digest
//	<dir>/tmp/                      writes in progress
//
// This is the layout of the cache pgoci has always kept: a cache written
// by an earlier pgoci is read as it is.
//
// # What enters the cache
//
// A blob enters only after its bytes hashed to its digest: [Cache.Push]
// streams them into a uniquely named temporary file under tmp/, hashing
// and counting as it writes, and renames the file into blobs/ only when
// the content is exactly the descriptor's size and digest. Readers never
// see a partial blob, a failed or cancelled write leaves nothing in
// blobs/, and several processes may fill the same cache at once: two
// writers of one blob both rename identical bytes into place. Temporary
// files older than a day (left by a process killed mid-write) are removed
// by [Open] and [Cache.Prune]. [Cache.PushVerified] is the same for a
// caller that hashes the bytes itself as they stream past and ends them
// with an error when they do not match (the pgoci installer, whose
// unpacker verifies every layer): it counts them and does not hash them a
// second time. Paths come from validated digests only,
// and the cache's own directories are never followed through a symbolic
// link planted in them.
//
// Reads do not hash: a blob was verified when it entered. A reader that
// must notice a change on disk since (a damaged disk, a power loss, an
// edit) verifies what it reads and calls [Cache.Delete] for a blob that
// fails, as pgoci's installer does for every blob it reads.
//
// # The bound
//
// With [Options].MaxSize, a [Cache.Push] that takes the blobs over the
// bound removes the least recently used blobs until they fit again (never
// the blob it just stored); a blob larger than the bound is not stored
// at all ([ErrTooLarge]). Temporary files of writes in progress are not
// counted. Listing the blobs costs a stat each, so a Cache lists them at
// its first write, whenever its own writes would take the total it knows
// over the bound, and otherwise at most every 10 seconds, adding its own
// writes to the total in between. Each process enforces the bound after
// its own writes, so the cache can exceed it by what other processes
// stored since this one last listed the blobs, until the next listing.
//
// A blob is used when it is stored or read. The use is recorded in the
// blob file's modification time, which Push and Fetch set to now unless
// it is less than a minute old: a read costs at most one utimensat(2)
// call a minute per blob, and nothing else (no index file, no lock).
// Least recently used is thus exact to about a minute. A cache on a
// read-only file system, or one whose files belong to another user, is
// read without recording uses.
//
// [Cache.Prune] removes least recently used blobs down to any size (0:
// all of them) and reports what it removed and the usage before and
// after; [Cache.Usage] counts blobs and bytes. Removal is lock-free: a
// blob read or stored while Prune runs is kept (its use time changed since
// Prune looked), and two pruners that pick the same blob count it once.
//
// # Other systems
//
// On Linux, macOS and the BSDs a removed blob stays readable by a process
// that has it open, until it closes it: pruning never breaks a reader. On
// Windows a file that is open cannot be removed: Prune skips it and lists
// it in [PruneResult].Busy, and a Push whose rename would replace such a
// file fails (the blob stays as it was). Use times need a file system
// that keeps modification times (all common ones do).
//
// # Default location
//
// [DefaultDir] picks $PGOCI_CACHE_DIR, else os.UserCacheDir()/pgoci, else
// a per-user directory under os.TempDir() that it creates 0700 and uses
// only when it is owned by the current user, so that it also works in a
// container with no HOME without letting another user of a shared /tmp
// plant the cache. See [DefaultDir].
package blobcache
