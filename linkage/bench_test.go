package linkage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"pgoci/linkage"
)

// Run with: go test ./linkage -run '^$' -bench . -benchtime 20x
//
// Cold: a new Checker per iteration (every object read and parsed: the
// server's closure, the module's and the loader cache). Warm: one Checker
// checking the same modules again (objects cached by inode, size and
// mtime). Both report ms/module.

func pg18Modules(b *testing.B) []string {
	if _, err := os.Stat(testPG18 + "/bin/postgres"); err != nil {
		b.Skip("PostgreSQL 18 tree not found at " + testPG18 + "; run bash .ci/e2e.sh once to install it")
	}
	mods, _ := filepath.Glob(testPG18 + "/lib/postgresql/*.so")
	return mods
}

func benchCheck(b *testing.B, server string, mods []string, warm bool) {
	ctx := context.Background()
	opts := linkage.Options{Server: server}
	ck := linkage.NewChecker(opts)
	if warm {
		if _, err := ck.Check(ctx, mods...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !warm {
			ck = linkage.NewChecker(opts)
		}
		if _, err := ck.Check(ctx, mods...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*len(mods)), "ms/module")
}

func BenchmarkCheckPG18ContribCold(b *testing.B) {
	benchCheck(b, testPG18+"/bin/postgres", pg18Modules(b), false)
}

func BenchmarkCheckPG18ContribWarm(b *testing.B) {
	benchCheck(b, testPG18+"/bin/postgres", pg18Modules(b), true)
}

// BenchmarkCheckOneModuleCold is one module on a new Checker: the cost of
// an install that checks a single-module package.
func BenchmarkCheckOneModuleCold(b *testing.B) {
	benchCheck(b, testPG18+"/bin/postgres", pg18Modules(b)[:1], false)
}

func BenchmarkCheckDblinkCold(b *testing.B) {
	pg18Modules(b)
	benchCheck(b, testPG18+"/bin/postgres", []string{testPG18 + "/lib/postgresql/dblink.so"}, false)
}

func BenchmarkReadLibc(b *testing.B) {
	p := "/lib/x86_64-linux-gnu/libc.so.6"
	if _, err := os.Stat(p); err != nil {
		b.Skip("no ", p)
	}
	for i := 0; i < b.N; i++ {
		if _, err := linkage.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
}
