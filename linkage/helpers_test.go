package linkage_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fixture is the committed fixture tree (see testdata/elf/fixtures.sh).
func fixture(parts ...string) string {
	return filepath.Join(append([]string{"testdata", "elf"}, parts...)...)
}

// cc builds C source into out with the system C compiler, skipping the
// test when there is none (or when not on linux/amd64 or linux/arm64, where
// the fixtures' assumptions hold).
func cc(t testing.TB, out, src string, args ...string) string {
	t.Helper()
	gcc := needCC(t)
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(t.TempDir(), strings.ReplaceAll(filepath.Base(out), ".", "_")+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gcc, append([]string{"-fPIC", "-O1", "-o", out, c}, args...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	return out
}

func needCC(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("ELF fixtures are built on Linux only")
	}
	for _, name := range []string{"gcc", "cc"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no C compiler (gcc or cc) on PATH; install gcc (apt-get install gcc) to run this test")
	return ""
}

func writeFile(t testing.TB, p, s string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(t testing.TB, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}
