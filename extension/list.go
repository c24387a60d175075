package extension

import (
	"context"
)

// List returns the records of the installed packages, sorted by name:
// name, version, digests, extensions, preload and restart needs, files.
// A location with no state is ErrNoState. List takes no lock: records
// are replaced atomically, so it sees each one before or after an install.
// Records that do not read are a *[DamagedError], returned with the
// records that do.
func (r *Root) List(ctx context.Context) ([]Installed, error) {
	loc := r.loc
	if err := loc.hasState(); err != nil {
		return nil, err
	}
	recs, damaged, err := loc.readState()
	if err != nil {
		return nil, err
	}
	out := make([]Installed, 0, len(recs))
	for _, name := range keysSorted(recs) {
		out = append(out, recs[name])
	}
	if len(damaged) > 0 {
		return out, &DamagedError{Records: damaged}
	}
	return out, nil
}
