package extension

import (
	"context"

	"pgoci/resolve"
)

// The helpers below do what most tests do in one step: open the location
// opts names (for target, where it matters) and make one call on it.

func installAt(ctx context.Context, ref string, target resolve.Target, opts RootOptions, call ...InstallOptions) (Result, error) {
	opts.Target = target
	r, err := Open(ctx, opts)
	if err != nil {
		return Result{}, err
	}
	var o InstallOptions
	if len(call) > 0 {
		o = call[0]
	}
	return r.Install(ctx, ref, o)
}

func uninstallAt(ctx context.Context, name string, opts RootOptions, call ...UninstallOptions) (Removed, error) {
	r, err := Open(ctx, opts)
	if err != nil {
		return Removed{}, err
	}
	var o UninstallOptions
	if len(call) > 0 {
		o = call[0]
	}
	return r.Uninstall(ctx, name, o)
}

func listAt(ctx context.Context, opts RootOptions) ([]Installed, error) {
	r, err := Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return r.List(ctx)
}

func verifyAt(ctx context.Context, opts RootOptions) ([]Drift, error) {
	r, err := Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return r.Verify(ctx)
}

func repairAt(ctx context.Context, opts RootOptions) ([]Repaired, error) {
	r, err := Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return r.Repair(ctx)
}

func settingsAt(ctx context.Context, opts RootOptions, current string) (ServerSettings, error) {
	r, err := Open(ctx, opts)
	if err != nil {
		return ServerSettings{}, err
	}
	return r.Settings(ctx, current)
}
