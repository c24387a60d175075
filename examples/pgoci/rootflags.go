package main

import (
	"context"
	"flag"

	"pgoci/extension"
)

// rootFlags are the options of an opened location shared by the commands
// that install: cache, lock file, durability, the link check's view of
// the server and the trust policy. The location and the target have
// flags of their own.
type rootFlags struct {
	o        extension.RootOptions
	libPath  multiFlag
	trust    trustFlags
	cacheMax cacheMaxFlag
}

func (r *rootFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.o.CacheDir, "cache", "", "blob cache `DIR`, or - for none (default: $PGOCI_CACHE_DIR, else pgoci in the user cache directory, else a private temporary directory)")
	fs.StringVar(&r.o.LockFile, "lock-file", "", "lock file `PATH` pinning references to digests, or - for none (default: lock.json in the state directory)")
	fs.BoolVar(&r.o.Durable, "durable", false, "fsync what is written, so that a power loss after the command returns cannot lose it (default: off)")
	fs.StringVar(&r.o.Postgres, "postgres", "", "the server executable at `PATH` the link check loads each module into (default: bin/postgres next to --pg-config; without either, the server's own symbols are reported unchecked)")
	fs.Var(&r.libPath, "library-path", "a `DIR` on the server's LD_LIBRARY_PATH besides the root's system/, for the link check (repeatable)")
	r.trust.register(fs)
	r.cacheMax.register(fs)
}

// open checks the location, works out the target and opens the root,
// progress going to events.
func (r *rootFlags) open(ctx context.Context, e *env, tf *targetFlags, loc *locationFlags, events func(extension.Event)) (*extension.Root, error) {
	loc.pgConfig = tf.pgConfig
	if err := loc.check(); err != nil {
		return nil, err
	}
	target, policy, err := tf.target(ctx)
	if err != nil {
		return nil, err
	}
	o := r.o
	if o.Verifier, err = r.trust.verifier(); err != nil {
		return nil, err
	}
	if err := r.cacheMax.apply(&o); err != nil {
		return nil, err
	}
	o.Target, o.Policy, o.Remote, o.LibraryPath, o.Events = target, policy, e.remoteOptions(), r.libPath, events
	return loc.open(ctx, o)
}
