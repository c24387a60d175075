package layout

import (
	"bytes"
	"io"
)

// How `$libdir/` references are rewritten, and why.
//
// A module named `$libdir/foo` is looked up only in the server's pkglibdir;
// a bare `foo` is looked up along dynamic_library_path (dfmgr.c,
// expand_dynamic_library_name: names without a slash go through the path
// search). An image mounted or installed outside pkglibdir therefore needs
// bare names.
//
// PostgreSQL 18 handles one case itself: when the control file was found
// through extension_control_path, a `$libdir/` prefix of module_pathname is
// dropped before MODULE_PATHNAME is substituted, so the module is searched
// along dynamic_library_path (src/backend/commands/extension.c; the test
// src/test/modules/test_extensions/t/001_extension_control_path.pl moves
// dummy_index_am, whose module_pathname is '$libdir/dummy_index_am', to a
// custom path and creates it). Literal '$libdir/foo' strings in SQL scripts
// (`AS '$libdir/foo', 'fn'`, `LOAD '$libdir/foo'`) are not touched by the
// server and fail with "could not access file "$libdir/foo"". CloudNativePG's
// PostGIS image strips them at build time with
// sed "s/'\$libdir\//'/g" (postgres-extensions-containers pull request 293,
// postgis/Dockerfile). pgoci does the same for both control files and
// scripts, so images behave the same on every PostgreSQL 18 release and when
// installed into a server's own directories (the default
// dynamic_library_path is '$libdir', so bare names still resolve there).
//
// Only a quote followed by `$libdir/` and a name with no further slash, up to
// the closing quote, is rewritten: `'$libdir/foo'` becomes `'foo'`, while
// `'$libdir/plugins/foo'` (a subdirectory, which a bare name cannot express)
// and any `$libdir` not right after a quote are left alone.

var libdirPrefix = []byte(`'$libdir/`)

// maxModuleName bounds the look-ahead for the closing quote. Module names
// are short; a longer run is left untouched.
const maxModuleName = 1024

// RewriteLibdir returns a reader that yields src with every `'$libdir/name'`
// turned into `'name'` (see above). It streams, holding at most about one
// kilobyte besides its read buffer, and returns src's errors. The caller
// still owns src and closes it.
func RewriteLibdir(src io.Reader) io.Reader {
	return &libdirRewriter{src: src, buf: make([]byte, 0, 32<<10)}
}

type libdirRewriter struct {
	src io.Reader
	buf []byte // bytes read from src, not yet decided
	out []byte // bytes decided, not yet returned
	eof bool
	err error // the error that ended src (io.EOF included)
}

func (r *libdirRewriter) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.eof && len(r.buf) == 0 {
			return 0, r.err
		}
		if !r.eof {
			r.fill()
		}
		r.process()
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

func (r *libdirRewriter) fill() {
	if len(r.buf) == cap(r.buf) {
		grown := make([]byte, len(r.buf), 2*cap(r.buf))
		copy(grown, r.buf)
		r.buf = grown
	}
	n, err := r.src.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	if err != nil {
		r.eof, r.err = true, err
	}
}

// process moves every byte of buf that can be decided into out.
func (r *libdirRewriter) process() {
	out := r.out[:0] // empty: process runs only once out is drained
	b := r.buf
	for {
		i := bytes.Index(b, libdirPrefix)
		if i < 0 {
			keep := 0
			if !r.eof {
				keep = partialPrefix(b)
			}
			out = append(out, b[:len(b)-keep]...)
			b = b[len(b)-keep:]
			break
		}
		out = append(out, b[:i]...)
		b = b[i:]
		n, decided := r.decide(b)
		if !decided {
			break
		}
		if n > 0 { // rewrite: the quote, then the name and its closing quote
			out = append(out, '\'')
			out = append(out, b[len(libdirPrefix):n]...)
			b = b[n:]
		} else {
			out = append(out, libdirPrefix...)
			b = b[len(libdirPrefix):]
		}
	}
	r.out = out
	r.buf = append(r.buf[:0], b...)
}

// decide looks at b, which starts with `'$libdir/`. It returns the length
// of the whole `'$libdir/name'` when it is to be rewritten, 0 when it is to
// be kept, and decided false when more input is needed.
func (r *libdirRewriter) decide(b []byte) (n int, decided bool) {
	rest := b[len(libdirPrefix):]
	for j, c := range rest {
		switch {
		case j >= maxModuleName:
			return 0, true
		case c == '\'':
			if j == 0 {
				return 0, true
			}
			return len(libdirPrefix) + j + 1, true
		case c == '/' || c == '\n' || c == '\\':
			return 0, true
		}
	}
	if r.eof || len(rest) >= maxModuleName {
		return 0, true
	}
	return 0, false
}

// partialPrefix returns how many trailing bytes of b could begin
// libdirPrefix, and so must wait for more input.
func partialPrefix(b []byte) int {
	for k := min(len(libdirPrefix)-1, len(b)); k > 0; k-- {
		if bytes.HasSuffix(b, libdirPrefix[:k]) {
			return k
		}
	}
	return 0
}
