package extension

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"pgoci/internal/view"
	"pgoci/layout"
)

// ServerSettings is what a server needs to load the packages installed at
// a location.
type ServerSettings struct {
	// Paths are extension_control_path and dynamic_library_path, and the
	// LD_LIBRARY_PATH of the server's environment (PostgreSQL 18 mode;
	// zero in PostgreSQL 17 mode, where the server's own directories are
	// used). They never change between installs.
	Paths layout.Settings
	// Preload is the shared_preload_libraries value: the entries of the
	// current value given, in their order, then the libraries the
	// installed packages need there that it lacks, sorted. Nothing the
	// administrator listed is ever dropped.
	Preload []string
	// Restart is true when Preload differs from the current value: the
	// server reads shared_preload_libraries only at start.
	Restart bool
}

// PostgresqlConf renders the settings as postgresql.conf lines (the
// LD_LIBRARY_PATH, an environment variable, as a comment).
func (s ServerSettings) PostgresqlConf() string {
	var b strings.Builder
	if s.Paths.ExtensionControlPath != "" {
		b.WriteString(s.Paths.PostgresqlConf())
	}
	if len(s.Preload) > 0 {
		b.WriteString("shared_preload_libraries = " + layout.QuoteConf(strings.Join(s.Preload, ", ")) + "\n")
	}
	if s.Paths.LDLibraryPath != "" {
		b.WriteString("# in the server's environment: LD_LIBRARY_PATH=" + s.Paths.LDLibraryPath + "\n")
	}
	return b.String()
}

// Settings returns the server settings for the packages installed at the
// location. current is the server's present
// shared_preload_libraries value ("" for none): the result keeps it and
// adds what the packages need (see [ServerSettings]).
//
// In PostgreSQL 18 mode it also makes the root's view directories (share,
// lib, system, bin), so that a server started with these settings before
// the first install sees what later installs put there: the dynamic
// loader remembers an LD_LIBRARY_PATH directory that did not exist when
// the server started as missing.
func (r *Root) Settings(ctx context.Context, current string) (ServerSettings, error) {
	loc := r.loc
	var (
		s   ServerSettings
		err error
	)
	if !loc.pg17() {
		for _, d := range append([]string{layout.DirExtension}, view.Dirs[1:]...) {
			if err := os.MkdirAll(filepath.Join(loc.root, d), 0o755); err != nil {
				return ServerSettings{}, fmt.Errorf("extension: install root: %w", err)
			}
		}
		if s.Paths, err = layout.PathSettings([]string{loc.root}); err != nil {
			return ServerSettings{}, err
		}
	}
	recs, _, err := loc.readState()
	if err != nil {
		return ServerSettings{}, err
	}
	var need []string
	for _, rec := range recs {
		need = append(need, rec.Preload...)
	}
	s.Preload, s.Restart = mergePreload(current, need)
	return s, nil
}

// mergePreload keeps the entries of current, in order, and appends those
// of need it lacks, sorted; changed says whether anything was added.
func mergePreload(current string, need []string) (merged []string, changed bool) {
	for _, p := range strings.Split(current, ",") {
		if p = strings.Trim(strings.TrimSpace(p), `"`); p != "" && !slices.Contains(merged, p) {
			merged = append(merged, p)
		}
	}
	slices.Sort(need)
	for _, p := range slices.Compact(need) {
		if !slices.Contains(merged, p) {
			merged = append(merged, p)
			changed = true
		}
	}
	return merged, changed
}
