package extension

import (
	"context"
	"slices"

	"pgoci/internal/state"
)

// defaultConcurrency is how many installs a sync runs at once by
// default: fetching and unpacking overlap, commits take turns under the
// location's lock.
const defaultConcurrency = 4

// applyInstalls runs the install steps of a plan, up to
// RootOptions.Concurrency at a time, a step only after the steps of the
// packages it requires (plan.after; every earlier step without it). After
// a failure no step starts; those running finish. The results come in
// the order the steps finished.
func (r *Root) applyInstalls(ctx context.Context, plan Plan, steps []Step) ([]Result, error) {
	limit := r.opts.Concurrency
	if limit <= 0 {
		limit = defaultConcurrency
	}
	type outcome struct {
		k   int
		res Result
		err error
	}
	doneCh := make(chan outcome)
	started := make([]bool, len(steps))
	finished := map[string]bool{}
	var results []Result
	var firstErr error
	running := 0
	for {
		for k := range steps {
			if running >= limit || firstErr != nil || ctx.Err() != nil {
				break
			}
			if started[k] || !ready(plan, steps, k, finished) {
				continue
			}
			started[k] = true
			running++
			go func(k int) {
				res, err := r.installStep(ctx, plan, steps[k])
				doneCh <- outcome{k, res, err}
			}(k)
		}
		if running == 0 {
			break
		}
		o := <-doneCh
		running--
		results = append(results, o.res)
		if o.err != nil && firstErr == nil {
			firstErr = &StepError{Step: steps[o.k], Err: o.err}
		}
		finished[steps[o.k].Package] = o.err == nil
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return results, firstErr
}

// ready reports whether step k may start: the packages it requires among
// the plan's installs are done, or, for a plan without that knowledge,
// every earlier step is.
func ready(plan Plan, steps []Step, k int, finished map[string]bool) bool {
	if plan.after == nil {
		for _, s := range steps[:k] {
			if !finished[s.Package] {
				return false
			}
		}
		return true
	}
	for _, name := range plan.after[steps[k].Package] {
		if slices.ContainsFunc(steps, func(s Step) bool { return s.Package == name }) && !finished[name] {
			return false
		}
	}
	return true
}

// installStep installs one step's package at the digest planned: the
// plan's pin replaces whatever the lock file says for the reference, and
// what the plan resolved on this Root is not resolved again.
func (r *Root) installStep(ctx context.Context, plan Plan, s Step) (Result, error) {
	i, err := r.newInstaller(ctx, InstallOptions{Version: s.Version})
	if err != nil {
		return Result{}, err
	}
	defer i.close()
	if s.Manifest != "" {
		i.lock.PinAs(s.Package, state.Pin{Reference: s.Reference, Version: s.Version, Digest: s.Manifest, Index: s.Index})
	}
	if pr, ok := plan.resolved[s.Package]; ok && plan.root == r && pr.res.Manifest.Digest == s.Manifest {
		i.planned = map[string]planResolution{s.Reference + "\x00" + s.Version: pr}
	}
	err = i.install(ctx, s.Reference, s.Version, nil, false)
	if lerr := i.saveLock(ctx); err == nil {
		err = lerr
	}
	return Result{Packages: i.done}, err
}
