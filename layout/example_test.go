package layout_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"pgoci/layout"
)

// Discover a DESTDIR tree, list what it provides and where each file goes in
// the image.
func Example() {
	tree, err := layout.Discover(context.Background(), "testdata/demo", layout.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kind:", tree.Kind, "PG major:", tree.PGMajor, "package:", tree.Package)
	for _, e := range tree.Extensions {
		fmt.Printf("%s default=%s versions=%v requires=%v modules=%v\n",
			e.Name, e.Control.DefaultVersion, e.Versions, e.Control.Requires, e.Modules)
	}
	entries, err := tree.Entries(context.Background(), layout.MapOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			fmt.Println(e.Path)
		}
	}
	// Output:
	// kind: destdir PG major: 18 package: demo
	// demo default=1.1 versions=[1.0 1.1] requires=[] modules=[demo]
	// demo_extra default=1.0 versions=[1.0] requires=[demo] modules=[]
	// lib/bitcode/demo.index.bc
	// lib/bitcode/demo/demo.bc
	// lib/demo.so
	// licenses/postgresql-18-pgoci-demo/copyright
	// share/extension/demo--1.0--1.1.sql
	// share/extension/demo--1.0.sql
	// share/extension/demo--1.1.sql
	// share/extension/demo.control
	// share/extension/demo_extra--1.0.sql
	// share/extension/demo_extra.control
}

func ExampleParseControl() {
	src := `# hstore extension
comment = 'data type for storing sets of (key, value) pairs'
default_version = '1.8'
module_pathname = '$libdir/hstore'
relocatable = true
trusted = true
`
	c, err := layout.ParseControl(strings.NewReader(src), "hstore.control")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Name, c.DefaultVersion, c.ModulePathname, c.Relocatable, c.Trusted, c.Superuser)

	_, err = layout.ParseControl(strings.NewReader("default_version = 1.0.1\n"), "x.control")
	fmt.Println(err)
	// Output:
	// hstore 1.8 $libdir/hstore true true true
	// layout: syntax error: x.control line 1: expected end of line after the value of "default_version", found ".1" (quote values that hold spaces or several dots)
}

func ExampleRewriteLibdir() {
	sql := `CREATE FUNCTION cube_in(cstring) RETURNS cube
AS '$libdir/cube', 'cube_in' LANGUAGE C;
LOAD '$libdir/plugins/debugger';
`
	if _, err := io.Copy(os.Stdout, layout.RewriteLibdir(strings.NewReader(sql))); err != nil {
		log.Fatal(err)
	}
	// Output:
	// CREATE FUNCTION cube_in(cstring) RETURNS cube
	// AS 'cube', 'cube_in' LANGUAGE C;
	// LOAD '$libdir/plugins/debugger';
}

func ExamplePathSettings() {
	s, err := layout.PathSettings([]string{"/extensions/postgis", "/extensions/pgvector"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(s.PostgresqlConf())
	fmt.Println("LD_LIBRARY_PATH=" + s.LDLibraryPath)
	// Output:
	// extension_control_path = '$system:/extensions/postgis/share:/extensions/pgvector/share'
	// dynamic_library_path = '$libdir:/extensions/postgis/lib:/extensions/pgvector/lib'
	// LD_LIBRARY_PATH=/extensions/postgis/system:/extensions/pgvector/system
}
