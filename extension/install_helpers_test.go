package extension

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/internal/elftest"
	"pgoci/internal/testregistry"
	"pgoci/labels"
	"pgoci/resolve"
)

// instAmd64 is the platform of the test images and targets.
var instAmd64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}

// instTarget is a PostgreSQL server of major on linux/amd64.
func instTarget(major int) resolve.Target {
	return resolve.Target{PG: labels.PG{Major: major}, Platform: instAmd64}
}

func instRegistry(t testing.TB) *testregistry.Server {
	t.Helper()
	srv, err := testregistry.Serve(testregistry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// instExt describes one extension of a test package: a control file, an
// install script and, unless sqlOnly, a module.
type instExt struct {
	name, version string
	requires      []string
	sqlOnly       bool
}

// instModule is a small amd64 ELF shared object, as the link check wants
// a module to be, told apart from others by tag.
func instModule(tag string) string {
	b, err := elftest.Build(elftest.Spec{Arch: "amd64", Defines: []string{"_PG_init"}, Comment: tag})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// instFiles returns the image root layout files of a package made of exts.
func instFiles(exts ...instExt) map[string]string {
	files := map[string]string{}
	for _, e := range exts {
		ctl := fmt.Sprintf("comment = '%s test'\ndefault_version = '%s'\nrelocatable = true\n", e.name, e.version)
		if len(e.requires) > 0 {
			ctl += fmt.Sprintf("requires = '%s'\n", strings.Join(e.requires, ", "))
		}
		sql := "SELECT 1;\n"
		if !e.sqlOnly {
			ctl += fmt.Sprintf("module_pathname = '%s'\n", e.name)
			sql = "CREATE FUNCTION f() RETURNS int AS 'MODULE_PATHNAME' LANGUAGE C;\n"
			files["lib/"+e.name+".so"] = instModule(e.name + " " + e.version)
		}
		files["share/extension/"+e.name+".control"] = ctl
		files["share/extension/"+e.name+"--"+e.version+".sql"] = sql
	}
	return files
}

// instPush packs files (an image root layout) for PostgreSQL major on
// linux/amd64 as package name and pushes it to srv under repo:tag. It
// returns the index digest.
func instPush(t testing.TB, srv *testregistry.Server, repo, tag, name string, major int, files map[string]string) digest.Digest {
	t.Helper()
	return instPushLinks(t, srv, repo, tag, name, major, files, nil)
}

// instPushLinks is instPush with symbolic links: links maps a path of the
// image root layout to its target.
func instPushLinks(t testing.TB, srv *testregistry.Server, repo, tag, name string, major int, files, links map[string]string) digest.Digest {
	t.Helper()
	return instPushPkg(t, srv, repo, tag, labels.Package{Name: name}, major, files, links)
}

// instPushPkg is instPushLinks with the package's version stated, for
// packages that provide no extension to take it from.
func instPushPkg(t testing.TB, srv *testregistry.Server, repo, tag string, pkg labels.Package, major int, files, links map[string]string) digest.Digest {
	t.Helper()
	dir := t.TempDir()
	for p, s := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
	r, err := remote.NewRepository(srv.Host() + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	ctx := context.Background()
	img, err := Pack(ctx, r, dir, Build{Platform: instAmd64, Metadata: labels.Metadata{
		Package: pkg,
		PG:      labels.PG{Major: major},
		Libc:    labels.Libc{Family: "glibc", Version: "2.36"},
	}}, PackOptions{})
	if err != nil {
		t.Fatalf("Pack %s: %v", repo, err)
	}
	idx, err := PushIndex(ctx, r, []Image{img}, tag)
	if err != nil {
		t.Fatal(err)
	}
	return idx.Digest
}

// instSnapshot maps every path under dir (except skip prefixes) to a
// description: "dir", "link -> target" or the SHA-256 of a file.
func instSnapshot(t testing.TB, dir string, skip ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		for _, s := range skip {
			if rel == s || strings.HasPrefix(rel, s+"/") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			out[rel] = fmt.Sprintf("dir %v", fi.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link -> " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out[rel] = fmt.Sprintf("file %v %s", fi.Mode().Perm(), hex.EncodeToString(sum[:]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// instList lists the installed packages, failing the test on an error.
func instList(t testing.TB, opts RootOptions) []Installed {
	t.Helper()
	list, err := listAt(context.Background(), opts)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return list
}

// instOptions are InstallOptions for root with a private cache.
func instOptions(t testing.TB, root string) RootOptions {
	return RootOptions{Root: root, CacheDir: filepath.Join(t.TempDir(), "cache")}
}

func instNames(rs []PackageResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name+" "+string(r.Action))
	}
	return out
}

func instRead(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
