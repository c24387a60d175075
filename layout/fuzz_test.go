package layout

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzParseControl: ParseControl never panics, fails only with a
// *ControlError, and what it accepts it accepts again when values are
// re-rendered quoted.
func FuzzParseControl(f *testing.F) {
	f.Add("comment = 'x'\ndefault_version = '1.0'\nmodule_pathname = '$libdir/x'\nrelocatable = true\n", "x.control")
	f.Add("requires = 'a, \"B\"'\nencoding = UTF8\n", "x--1.0.control")
	f.Add("comment = 'a\\101''b'  # c\n", "x.control")
	f.Fuzz(func(t *testing.T, src, file string) {
		c, err := ParseControl(strings.NewReader(src), file)
		if err != nil {
			if _, ok := err.(*ControlError); !ok {
				t.Fatalf("error %T %v is not a *ControlError", err, err)
			}
			return
		}
		var b strings.Builder
		for _, k := range []struct{ key, v string }{{"comment", c.Comment}, {"module_pathname", c.ModulePathname}, {"schema", c.Schema}} {
			if c.IsSet(k.key) && !strings.ContainsRune(k.v, 0) {
				b.WriteString(k.key + " = " + QuoteConf(k.v) + "\n")
			}
		}
		name, version, _ := ParseControlFileName(file)
		again, err := ParseControl(strings.NewReader(b.String()), name+map[bool]string{true: "--" + version}[version != ""]+".control")
		if err != nil {
			t.Fatalf("re-rendered values do not parse: %v\n%s", err, b.String())
		}
		if again.Comment != c.Comment && c.IsSet("comment") {
			t.Fatalf("comment %q became %q", c.Comment, again.Comment)
		}
	})
}

// FuzzRewriteLibdir: the streaming rewrite gives the same bytes whatever
// the read sizes, never panics, and leaves input without `'$libdir/` as is.
func FuzzRewriteLibdir(f *testing.F) {
	f.Add([]byte("AS '$libdir/postgis-3', 'f'; LOAD '$libdir/plugins/x';"))
	f.Add([]byte("'$libdir/a''$libdir/b'"))
	f.Add([]byte("'$lib"))
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, err := io.ReadAll(RewriteLibdir(bytes.NewReader(in)))
		if err != nil {
			t.Fatal(err)
		}
		bytewise, err := io.ReadAll(RewriteLibdir(iotest.OneByteReader(bytes.NewReader(in))))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(whole, bytewise) {
			t.Fatalf("read sizes change the output: %q vs %q", whole, bytewise)
		}
		if !bytes.Contains(in, libdirPrefix) && !bytes.Equal(in, whole) {
			t.Fatalf("input without the prefix changed: %q -> %q", in, whole)
		}
	})
}

// FuzzSplitIdentifiers: never panics; every name is non-empty and at most
// 63 bytes.
func FuzzSplitIdentifiers(f *testing.F) {
	f.Add(`a, "B", "c""d"`)
	f.Fuzz(func(t *testing.T, s string) {
		names, ok := splitIdentifiers(s)
		if !ok {
			return
		}
		for _, n := range names {
			if n == "" || len(n) > maxIdentifier {
				t.Fatalf("bad name %q from %q", n, s)
			}
		}
	})
}
