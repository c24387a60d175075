package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"pgoci/blobcache"
	"pgoci/extension"
)

func cacheCommand() command {
	return command{
		name:    "cache",
		usage:   []string{"du [--cache DIR]", "prune --max-size SIZE [--cache DIR]"},
		summary: "show the size of the blob cache install and sync fetch through, or prune it to a size, least recently used blobs first",
		details: "The cache is --cache DIR, else $PGOCI_CACHE_DIR, else pgoci in the user cache directory " +
			"($XDG_CACHE_HOME or ~/.cache on Linux), else pgoci-cache-UID in the temporary directory " +
			"(created 0700, refused when another user created it first). " +
			"du prints the number and size of the cached blobs. " +
			"prune removes the least recently used blobs (a blob is used when it is fetched or installed from the cache) " +
			"until the rest fit in SIZE, printing each one it removes; --max-size 0 removes them all. " +
			"A process reading a blob keeps reading it after it is pruned. " +
			"install and sync bound the cache as they fill it with --cache-max-size.\n\n" +
			"SIZE is a number of bytes with an optional unit: kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), " +
			"e.g. 500MB, 2GiB, 1.5G.",
		setup: setupCache,
	}
}

func setupCache(fs *flag.FlagSet) action {
	dir := fs.String("cache", "", "the blob cache `DIR` (default: $PGOCI_CACHE_DIR, the user cache directory, or a private temporary directory)")
	var max sizeFlag
	fs.Var(&max, "max-size", "with prune: remove least recently used blobs until the rest fit in `SIZE` (0: all of them)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("want one subcommand (du or prune), got %d argument(s)", len(args))
		}
		switch args[0] {
		case "du":
			if max.set {
				return usagef("--max-size is for cache prune")
			}
		case "prune":
			if !max.set {
				return usagef("cache prune needs --max-size SIZE (0 to remove every blob)")
			}
		default:
			return usagef("unknown subcommand %q: want du or prune", args[0])
		}
		d, err := cacheDir(*dir)
		if err != nil {
			return err
		}
		if args[0] == "du" {
			return cacheDu(ctx, e, d, *asJSON)
		}
		return cachePrune(ctx, e, d, max.n, *asJSON)
	}
}

// cacheDir is --cache DIR, or the default location.
func cacheDir(flagDir string) (string, error) {
	switch flagDir {
	case "-":
		return "", usagef("--cache -: no cache to look at")
	case "":
		return blobcache.DefaultDir()
	}
	return flagDir, nil
}

type cacheReport struct {
	Dir string `json:"dir"`
	blobcache.Usage
}

func cacheDu(ctx context.Context, e *env, dir string, asJSON bool) error {
	var u blobcache.Usage
	// A directory that holds no cache yet is reported empty, not created.
	if _, err := os.Stat(filepath.Join(dir, "blobs")); err == nil {
		c, err := blobcache.Open(dir, blobcache.Options{})
		if err != nil {
			return err
		}
		if u, err = c.Usage(ctx); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if asJSON {
		return printJSON(e, cacheReport{Dir: dir, Usage: u})
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", dir, usageLine(u))
	if u.TempFiles > 0 {
		fmt.Fprintf(e.stdout, "%s: %d temporary file(s), %s (downloads in progress, or left by a crash and removed after a day)\n",
			dir, u.TempFiles, formatSize(u.TempSize))
	}
	return nil
}

func cachePrune(ctx context.Context, e *env, dir string, maxSize int64, asJSON bool) error {
	c, err := blobcache.Open(dir, blobcache.Options{})
	if err != nil {
		return err
	}
	res, err := c.Prune(ctx, maxSize)
	if asJSON {
		if jerr := printJSON(e, struct {
			Dir string `json:"dir"`
			blobcache.PruneResult
		}{dir, res}); jerr != nil {
			return jerr
		}
		return err
	}
	var freed int64
	for _, b := range res.Removed {
		fmt.Fprintf(e.stdout, "removed %s %s, last used %s\n", b.Digest, formatSize(b.Size), b.LastUsed.Local().Format(time.DateTime))
		freed += b.Size
	}
	for _, b := range res.Busy {
		fmt.Fprintf(e.stdout, "kept %s %s: in use by another process\n", b.Digest, formatSize(b.Size))
	}
	fmt.Fprintf(e.stdout, "%s: %s before, %s after; %d blob(s) removed, %s freed\n",
		dir, usageLine(res.Before), usageLine(res.After), len(res.Removed), formatSize(freed))
	return err
}

func usageLine(u blobcache.Usage) string {
	return fmt.Sprintf("%d blob(s), %s", u.Blobs, formatSize(u.Size))
}

func printJSON(e *env, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", b)
	return err
}

// cacheMaxFlag is install's and sync's --cache-max-size: it opens the
// cache with a bound and hands it to the root.
type cacheMaxFlag struct{ sizeFlag }

func (f *cacheMaxFlag) register(fs *flag.FlagSet) {
	fs.Var(&f.sizeFlag, "cache-max-size", "bound the blob cache to `SIZE` as it fills (e.g. 2GiB; least recently used blobs go first; default: no bound)")
}

// apply opens the cache o.CacheDir names with the bound, when one was
// given.
func (f *cacheMaxFlag) apply(o *extension.RootOptions) error {
	if !f.set || f.n == 0 {
		return nil
	}
	dir, err := cacheDir(o.CacheDir)
	if err != nil {
		return usagef("--cache-max-size needs a cache: %v", err)
	}
	c, err := blobcache.Open(dir, blobcache.Options{MaxSize: f.n})
	if err != nil {
		return err
	}
	o.Cache = c
	return nil
}

// sizeFlag is a SIZE: bytes with an optional decimal or binary unit.
type sizeFlag struct {
	n   int64
	set bool
}

func (s *sizeFlag) String() string {
	if !s.set {
		return ""
	}
	return strconv.FormatInt(s.n, 10)
}

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	s.n, s.set = n, true
	return nil
}

// sizeUnits are the units parseSize accepts, lower case, "b" optional.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// parseSize reads "500MB", "2GiB", "1.5G", "1024" or "0" as bytes.
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 500MB or 2GiB", v)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("size %q: %q is not a number", v, num)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	n := new(big.Int).Quo(r.Num(), r.Denom()) // whole bytes, rounded down
	if !n.IsInt64() {
		return 0, fmt.Errorf("size %q is too large", v)
	}
	return n.Int64(), nil
}

// formatSize writes n bytes in binary units, with the exact count when
// rounded.
func formatSize(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, u := float64(n)/1024, 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", f, units[u], n)
}
