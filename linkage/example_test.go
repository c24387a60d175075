package linkage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"pgoci/linkage"
)

// Read an object and print what the loader and pack care about.
func ExampleReadFile() {
	o, err := linkage.ReadFile("testdata/elf/mod/good.so")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("arch:", o.Arch)
	fmt.Println("needed:", o.Needed)
	fmt.Println("runpath:", o.RunPath)
	for _, u := range o.Undefined {
		fmt.Printf("needs %s (from %q, weak %v)\n", u, u.Library, u.Weak())
	}
	// Output:
	// arch: amd64
	// needed: [libdemo.so.1]
	// runpath: [$ORIGIN/../lib]
	// needs maybe (from "", weak true)
	// needs server_func (from "", weak false)
	// needs demo_hello@DEMO_1.0 (from "libdemo.so.1", weak false)
}

// Check modules against a server executable, the way the loader would load
// them into it. The fixture server exports server_func; good.so finds
// libdemo.so.1 through its RUNPATH $ORIGIN/../lib; nolib.so needs a
// library that exists nowhere; nosym.so calls a function nothing defines.
func ExampleChecker_Check() {
	ck := linkage.NewChecker(linkage.Options{
		Server:      "testdata/elf/bin/server",
		NoLDCache:   true,       // keep the example independent of this machine
		DefaultDirs: []string{}, // likewise: no default directories
	})
	reports, err := ck.Check(context.Background(),
		"testdata/elf/mod/good.so", "testdata/elf/mod/nolib.so", "testdata/elf/mod/nosym.so")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range reports {
		fmt.Printf("%s: loads %v\n", filepath.Base(r.Module), r.OK())
		for _, l := range r.Libraries {
			if l.Path != "" {
				fmt.Printf("  %s via %s\n", l.Soname, l.Via)
			}
		}
		for _, f := range r.Findings {
			fmt.Printf("  %s %s%s\n", f.Kind, f.Soname, f.Symbol)
		}
	}
	// Output:
	// good.so: loads true
	//   libdemo.so.1 via runpath
	// nolib.so: loads false
	//   not-found libabsent.so.7
	// nosym.so: loads false
	//   libdemo.so.1 via runpath
	//   missing-symbol server_gone
}

// Check a module before it is installed: it will be opened from
// /srv/pg/packages/demo/1/mod/good.so, so its $ORIGIN is there; Overlay
// says the package's files are in testdata/elf for now.
func ExampleOptions_overlay() {
	const root = "/srv/pg/packages/demo/1"
	ck := linkage.NewChecker(linkage.Options{
		Server:      "testdata/elf/bin/server",
		Overlay:     []linkage.Mapping{{Target: root, Source: "testdata/elf"}},
		NoLDCache:   true,
		DefaultDirs: []string{},
	})
	reports, err := ck.Check(context.Background(), root+"/mod/good.so")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := reports[0]
	fmt.Println(r.Libraries[0].Soname, "=>", r.Libraries[0].Path, "via", r.Libraries[0].Via)
	fmt.Println("error:", r.Err())
	// Output:
	// libdemo.so.1 => /srv/pg/packages/demo/1/lib/libdemo.so.1 via runpath
	// error: <nil>
}

// Plan the libraries pack --bundle-libs copies into system/.
func ExamplePlanBundle() {
	plan, err := linkage.PlanBundle(context.Background(), []string{"testdata/elf/mod/good.so", "testdata/elf/mod/nolib.so"},
		linkage.BundleOptions{NoLDCache: true, DefaultDirs: []string{}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range plan.Libs {
		fmt.Printf("bundle %s (soname %s, links %v) via %s\n", l.Name, l.Soname, l.Links, l.Via)
	}
	for _, m := range plan.Missing {
		fmt.Printf("missing %s, needed by %s\n", m.Soname, filepath.Base(m.Object))
	}
	// Output:
	// bundle libdemo.so.1 (soname libdemo.so.1, links []) via runpath
	// missing libabsent.so.7, needed by nolib.so
}

// The refusal is a *LoadError wrapping ErrCannotLoad.
func ExampleLoadError() {
	ck := linkage.NewChecker(linkage.Options{Server: "testdata/elf/bin/server", NoLDCache: true, DefaultDirs: []string{}})
	reports, _ := ck.Check(context.Background(), "testdata/elf/mod/nosym.so")
	err := reports[0].Err()
	fmt.Println(errors.Is(err, linkage.ErrCannotLoad))
	var le *linkage.LoadError
	if errors.As(err, &le) {
		f := le.Problems[0]
		so, _, _ := strings.Cut(f.Looked[0], "=")
		fmt.Printf("%s needs %s, expected from %s (%d objects in scope)\n", filepath.Base(le.Module), f.Symbol, so, f.Scope)
	}
	// The message itself reads (paths shortened):
	// linkage: nosym.so needs server_gone; libdemo.so.1 resolves to .../lib/libdemo.so.1, which does not define it, nor does any other of the 3 objects in scope

	// Output:
	// true
	// nosym.so needs server_gone, expected from libdemo.so.1 (3 objects in scope)
}
