//go:build unix

package blobcache

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// noHome clears what os.UserCacheDir reads, as in a container started
// without HOME, and points os.TempDir at a fresh directory.
func noHome(t *testing.T) (tmp string) {
	t.Helper()
	for _, v := range []string{EnvDir, "HOME", "XDG_CACHE_HOME"} {
		t.Setenv(v, "") // restored after the test
		os.Unsetenv(v)
	}
	tmp = t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

func wantTempCache(tmp string) string {
	return filepath.Join(tmp, "pgoci-cache-"+strconv.Itoa(os.Geteuid()))
}

func TestDefaultDirEnv(t *testing.T) {
	noHome(t)
	want := filepath.Join(t.TempDir(), "from-env")
	t.Setenv(EnvDir, want)
	if got, err := DefaultDir(); err != nil || got != want {
		t.Fatalf("DefaultDir = %q, %v; want $%s, %q", got, err, EnvDir, want)
	}
	if fi, err := os.Stat(want); err != nil || !fi.IsDir() {
		t.Errorf("DefaultDir did not create %s: %v", want, err)
	}
	t.Setenv(EnvDir, "relative/cache")
	if _, err := DefaultDir(); !errors.Is(err, ErrNoDefaultDir) || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative $%s: %v, want ErrNoDefaultDir saying it is not absolute", EnvDir, err)
	}
	// Set but unusable: an error, not the next candidate.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvDir, filepath.Join(file, "cache"))
	if _, err := DefaultDir(); !errors.Is(err, ErrNoDefaultDir) || !strings.Contains(err.Error(), EnvDir) {
		t.Errorf("unusable $%s: %v, want ErrNoDefaultDir naming it", EnvDir, err)
	}
}

func TestDefaultDirUserCache(t *testing.T) {
	noHome(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "xdg"))
	ucd, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DefaultDir(); err != nil || got != filepath.Join(ucd, "pgoci") {
		t.Fatalf("DefaultDir = %q, %v; want %q", got, err, filepath.Join(ucd, "pgoci"))
	}
}

// TestDefaultDirNoHome: with neither HOME nor XDG_CACHE_HOME, the cache
// is a private directory under os.TempDir(), created 0700, usable, and
// the same on the next call.
func TestDefaultDirNoHome(t *testing.T) {
	tmp := noHome(t)
	if _, err := os.UserCacheDir(); err == nil {
		t.Skip("os.UserCacheDir works without HOME here")
	}
	got, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if got != wantTempCache(tmp) {
		t.Fatalf("DefaultDir = %q, want %q", got, wantTempCache(tmp))
	}
	fi, err := os.Lstat(got)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v, %v; want a directory with mode 0700", got, fi.Mode(), err)
	}
	c, err := Open(got, Options{})
	if err != nil {
		t.Fatal(err)
	}
	push(t, c, []byte("works without HOME"))
	if again, err := DefaultDir(); err != nil || again != got {
		t.Errorf("second DefaultDir = %q, %v", again, err)
	}
}

// TestDefaultDirHomeUnusable: a HOME where nothing can be created (HOME=/
// for an unknown user; here a file) falls through to the temporary
// directory.
func TestDefaultDirHomeUnusable(t *testing.T) {
	tmp := noHome(t)
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", file)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(file, "cache"))
	if got, err := DefaultDir(); err != nil || got != wantTempCache(tmp) {
		t.Errorf("DefaultDir = %q, %v; want %q", got, err, wantTempCache(tmp))
	}
}

// TestDefaultDirSquatted: whatever another user put at the temporary
// directory's name first is refused, never used or written through.
func TestDefaultDirSquatted(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		tmp := noHome(t)
		elsewhere := t.TempDir()
		if err := os.Symlink(elsewhere, wantTempCache(tmp)); err != nil {
			t.Fatal(err)
		}
		_, err := DefaultDir()
		if !errors.Is(err, ErrNoDefaultDir) || !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("DefaultDir = %v, want ErrNoDefaultDir explaining the symbolic link", err)
		}
		if got := entries(t, elsewhere, "."); len(got) != 0 {
			t.Errorf("written through the planted link: %v", got)
		}
	})
	t.Run("file", func(t *testing.T) {
		tmp := noHome(t)
		if err := os.WriteFile(wantTempCache(tmp), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := DefaultDir(); !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), "regular file") {
			t.Fatalf("DefaultDir = %v, want ErrNoDefaultDir naming the file", err)
		}
	})
	t.Run("another user's directory", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("making a directory another user owns needs root")
		}
		tmp := noHome(t)
		d := wantTempCache(tmp)
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		_, err := DefaultDir()
		if !errors.Is(err, ErrNoDefaultDir) || !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), "owned by uid 65534") || !strings.Contains(err.Error(), EnvDir) {
			t.Fatalf("DefaultDir = %v, want ErrNoDefaultDir naming the owner and $%s", err, EnvDir)
		}
	})
	t.Run("own directory, too open", func(t *testing.T) {
		tmp := noHome(t)
		d := wantTempCache(tmp)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
		if got, err := DefaultDir(); err != nil || got != d {
			t.Fatalf("DefaultDir = %q, %v", got, err)
		}
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Errorf("mode %v, want 0700", fi.Mode().Perm())
		}
	})
	t.Run("temporary directory without sticky bit", func(t *testing.T) {
		tmp := noHome(t)
		if err := os.Chmod(tmp, 0o777); err != nil {
			t.Fatal(err)
		}
		if _, err := DefaultDir(); !errors.Is(err, ErrUnsafeDir) || !strings.Contains(err.Error(), "sticky") {
			t.Fatalf("DefaultDir = %v, want a refusal naming the sticky bit", err)
		}
		if err := os.Chmod(tmp, 0o777|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
		// os.Chmod maps ModeSticky to S_ISVTX on Unix systems.
		var st syscall.Stat_t
		if err := syscall.Stat(tmp, &st); err != nil || st.Mode&syscall.S_ISVTX == 0 {
			t.Skipf("cannot set the sticky bit here: %v", err)
		}
		if got, err := DefaultDir(); err != nil || got != wantTempCache(tmp) {
			t.Errorf("with the sticky bit: %q, %v", got, err)
		}
	})
}
