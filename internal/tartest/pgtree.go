package tartest

import (
	"archive/tar"
	"io"
	"math/rand/v2"
	"strings"
)

// PGTree writes a tar stream shaped like a PostgreSQL install tree: about
// files entries totalling about totalBytes, in some forty directories up to
// six deep; a few large shared objects (.so, a fifth random bytes, so they
// compress about 2:1) hold most of the bytes, then SQL
// scripts, control files and headers (text). The whole compresses about
// 2.4:1 with zstd. The same seed gives
// the same bytes. It streams: memory does not grow with totalBytes.
func PGTree(w io.Writer, files int, totalBytes int64, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 42))
	tw := tar.NewWriter(w)
	dirs := pgDirs()
	for _, d := range dirs {
		if err := tw.WriteHeader(Dir(d + "/").Header()); err != nil {
			return err
		}
	}
	nSo := max(files*3/100, 1)
	nCtl := files * 30 / 100
	nH := files * 7 / 100
	nSQL := max(files-nSo-nCtl-nH, 1)
	kinds := []struct {
		n     int
		share float64
		ext   string
		dir   func(int) string
	}{
		{nSo, 0.70, ".so", func(i int) string { return dirs[1+i%3] }},
		{nSQL, 0.24, ".sql", func(int) string { return "share/postgresql/extension" }},
		{nCtl, 0.005, ".control", func(int) string { return "share/postgresql/extension" }},
		{nH, 0.055, ".h", func(i int) string { return dirs[8+i%(len(dirs)-8)] }},
	}
	buf := make([]byte, 0, 1<<20)
	for _, k := range kinds {
		avg := int64(float64(totalBytes) * k.share / float64(k.n))
		for i := range k.n {
			size := max(avg/2+rng.Int64N(avg+1), 16)
			name := k.dir(i) + "/" + word(rng) + "_" + Itoa(i) + k.ext
			h := File(name, "").Header()
			h.Size = size
			h.Mode = 0o644
			if k.ext == ".so" {
				h.Mode = 0o755
			}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			for left := size; left > 0; {
				n := min(left, int64(cap(buf)))
				buf = content(rng, buf[:0], int(n), k.ext == ".so")
				if _, err := tw.Write(buf); err != nil {
					return err
				}
				left -= n
			}
		}
	}
	return tw.Close()
}

func pgDirs() []string {
	d := []string{
		"lib", "lib/postgresql", "lib/postgresql/plugins", "lib/postgresql/pgxs",
		"share", "share/postgresql", "share/postgresql/extension",
		"include", "include/server",
	}
	for _, a := range []string{"access", "catalog", "utils", "nodes", "storage", "executor", "optimizer", "parser"} {
		d = append(d, "include/server/"+a)
		for _, b := range []string{"x", "y", "z"} {
			d = append(d, "include/server/"+a+"/"+b)
		}
	}
	d = append(d, "lib/postgresql/bitcode", "lib/postgresql/bitcode/hstore", "lib/postgresql/bitcode/hstore/src/deep")
	return d
}

var words = strings.Fields(`select create function returns language plpgsql as begin end
	table index extension schema grant revoke comment on is not null default
	int4 text bool jsonb hstore cube earthdistance pg_trgm operator class
	strict immutable parallel safe cost rows support internal void trigger`)

func word(rng *rand.Rand) string { return words[rng.IntN(len(words))] }

// content appends n bytes: text for scripts, half-random binary for .so.
func content(rng *rand.Rand, b []byte, n int, binary bool) []byte {
	for len(b) < n {
		if binary {
			if rng.IntN(5) == 0 {
				for range 64 {
					b = append(b, byte(rng.Uint32()))
				}
			} else {
				b = append(b, "\x00\x00\x00\x00\x48\x89\xe5\x41\x57\x41\x56\x53\x48\x83\xec\x18"...)
				b = append(b, word(rng)...)
			}
			continue
		}
		b = append(b, word(rng)...)
		b = append(b, ' ')
		if rng.IntN(12) == 0 {
			b = append(b, ";\n"...)
		}
	}
	return b[:n]
}
