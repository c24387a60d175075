package extension

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSettings: the settings of a root name its directories (made, so a
// server started before the first install sees later ones), and
// shared_preload_libraries keeps what the administrator has, adds what
// the installed packages need, and says when that needs a restart.
func TestSettings(t *testing.T) {
	srv := instRegistry(t)
	instPush(t, srv, "ext/pg_cron", "1.4", "pg_cron", 18, instFiles(instExt{name: "pg_cron", version: "1.4"}))
	root := t.TempDir()
	ctx := context.Background()
	s, err := settingsAt(ctx, RootOptions{Root: root}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"share/extension", "lib", "system", "bin"} {
		if fi, err := os.Stat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			t.Errorf("settings did not make %s: %v", d, err)
		}
	}
	if len(s.Preload) != 0 || s.Restart || s.Paths.LDLibraryPath != filepath.Join(root, "system") {
		t.Errorf("settings of an empty root: %+v", s)
	}
	if _, err := installAt(ctx, srv.Host()+"/ext/pg_cron:1.4", instTarget(18), instOptions(t, root)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		current string
		want    []string
		restart bool
	}{
		{"", []string{"pg_cron"}, true},
		{"auto_explain", []string{"auto_explain", "pg_cron"}, true},
		{`pg_cron, "auto_explain"`, []string{"pg_cron", "auto_explain"}, false},
	} {
		s, err := settingsAt(ctx, RootOptions{Root: root}, tc.current)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(s.Preload, tc.want) || s.Restart != tc.restart {
			t.Errorf("current %q: preload %v restart %v, want %v %v", tc.current, s.Preload, s.Restart, tc.want, tc.restart)
		}
		if conf := s.PostgresqlConf(); !strings.Contains(conf, "shared_preload_libraries = '"+strings.Join(tc.want, ", ")+"'") ||
			!strings.Contains(conf, "# in the server's environment: LD_LIBRARY_PATH="+filepath.Join(root, "system")) {
			t.Errorf("postgresql.conf lines:\n%s", conf)
		}
	}
}
