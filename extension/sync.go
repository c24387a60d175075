package extension

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"

	"pgoci/internal/state"
	"pgoci/labels"
	"pgoci/resolve"
)

// Desired is the list of extension packages a location should hold, for
// [Root.Plan] and [Root.Sync]: what an operator's resource or a sync file
// says.
//
//	repository: registry.example.com/extensions
//	extensions:
//	  - name: postgis
//	    version: "~3.5"
//	  - name: pg_trgm
//	    image: registry.example.com/contrib/pg_trgm:1.6
type Desired struct {
	// Repository is where a wanted package without an Image is looked
	// up: <Repository>/<Name>. The extensions the packages require come
	// from the same namespace (see [DefaultDependencyRef]).
	Repository string `json:"repository,omitempty" yaml:"repository,omitempty"`
	// Extensions are the wanted packages, by name.
	Extensions []Wanted `json:"extensions" yaml:"extensions"`
}

// Wanted is one wanted package.
type Wanted struct {
	// Name is the package's name, which is also the extension it
	// provides for most packages (a package providing several, such as
	// postgis, is named after one of them). A package installed under
	// another name, or providing an extension of that name, counts.
	Name string `json:"name" yaml:"name"`
	// Version is a version constraint ([resolve.ParseConstraint]) for a
	// reference without tag or digest. Default: the highest version.
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	// Image is the reference to install from, when the package is not at
	// <Desired.Repository>/<Name>.
	Image string `json:"image,omitempty" yaml:"image,omitempty"`
}

// reference is where w is installed from.
func (w Wanted) reference(repository string) (string, error) {
	if w.Image != "" {
		return w.Image, nil
	}
	if repository == "" {
		return "", fmt.Errorf("%w: %q has no image and the list names no repository", ErrDesired, w.Name)
	}
	return strings.TrimSuffix(repository, "/") + "/" + w.Name, nil
}

// check validates the list: every entry named once, with a usable name
// and reference.
func (d Desired) check() error {
	seen := map[string]bool{}
	for _, w := range d.Extensions {
		if err := checkName(w.Name); err != nil {
			return fmt.Errorf("%w: %w", ErrDesired, err)
		}
		if seen[w.Name] {
			return fmt.Errorf("%w: %q is listed twice", ErrDesired, w.Name)
		}
		seen[w.Name] = true
		ref, err := w.reference(d.Repository)
		if err != nil {
			return err
		}
		if _, err := resolve.ParseReference(ref); err != nil {
			return fmt.Errorf("%w: %q: %w", ErrDesired, w.Name, err)
		}
		if w.Version != "" {
			if _, err := resolve.ParseConstraint(w.Version); err != nil {
				return fmt.Errorf("%w: %q: version %q: %w", ErrDesired, w.Name, w.Version, err)
			}
		}
	}
	return nil
}

// StepAction is what one [Step] of a [Plan] does.
type StepAction string

// Step actions, in the order a plan runs them.
const (
	// StepInstall installs a package not installed yet.
	StepInstall StepAction = "install"
	// StepUpgrade, StepDowngrade and StepRebuild replace the installed
	// digest of a package with a higher version, a lower one, or another
	// build of the same version.
	StepUpgrade   StepAction = "upgrade"
	StepDowngrade StepAction = "downgrade"
	StepRebuild   StepAction = "rebuild"
	// StepAdopt marks a package installed as a dependency as wanted for
	// itself: nothing is fetched, and [Root.Prune] no longer removes it.
	StepAdopt StepAction = "adopt"
	// StepDependency is a package the install of Step.For brings along as
	// a dependency: it is listed for the reader, and done by that install.
	StepDependency StepAction = "dependency"
	// StepRemove uninstalls a package nothing wants or requires any more.
	StepRemove StepAction = "remove"
)

// Step is one action of a [Plan].
type Step struct {
	Action StepAction `json:"action"`
	// Package is the package's name.
	Package string `json:"package"`
	// Reference and Version (a constraint) are what the package is
	// installed from: as wanted, or as the dependency would be looked up.
	Reference string `json:"reference,omitempty"`
	Version   string `json:"version,omitempty"`
	// From is the version installed now, To the version the step
	// installs.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Manifest and Index are the digests the step installs: [Root.Apply]
	// installs exactly these, even if the tag moved since the plan.
	Manifest digest.Digest `json:"manifest,omitempty"`
	Index    digest.Digest `json:"index,omitempty"`
	// For names, for a StepDependency, the package requiring it; Reason
	// says in words why the step is there.
	For    string `json:"for,omitempty"`
	Reason string `json:"reason"`
}

// String renders the step on one line: "upgrade cube 1.4 -> 1.5
// (sha256:...) from ghcr.io/acme/cube: wanted".
func (s Step) String() string {
	var b strings.Builder
	b.WriteString(string(s.Action) + " " + s.Package)
	switch {
	case s.From != "" && s.To != "":
		b.WriteString(" " + s.From + " -> " + s.To)
	case s.To != "":
		b.WriteString(" " + s.To)
	case s.From != "":
		b.WriteString(" " + s.From)
	}
	if s.Manifest != "" {
		b.WriteString(" (" + s.Manifest.String() + ")")
	}
	if s.Reference != "" && s.Action != StepRemove {
		b.WriteString(" from " + s.Reference)
		if s.Version != "" {
			b.WriteString(" " + s.Version)
		}
	}
	b.WriteString(": " + s.Reason)
	return b.String()
}

// Plan is what [Root.Apply] does to reach a [Desired] state: installs and
// version changes first, providers before the packages requiring them,
// then removals, requirers before the packages they require, so that no
// step leaves an installed package's requirement unmet.
type Plan struct {
	Steps []Step `json:"steps"`
	// Unchanged are the wanted packages installed as wanted already.
	Unchanged []string `json:"unchanged"`
	// after maps a package to install to the packages of the plan it
	// requires, installed first; nil for a plan not made by [Root.Plan],
	// whose installs then run one at a time in order.
	after map[string][]string
	// resolved holds what planning resolved, per package, so that Apply
	// on the same Root fetches only the layers.
	resolved map[string]planResolution
	root     *Root
}

// planResolution is one package's image as the plan resolved it.
type planResolution struct {
	res resolve.Resolved
	src resolve.Source
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool {
	for _, s := range p.Steps {
		if s.Action != StepDependency {
			return false
		}
	}
	return true
}

// String renders the plan, one step per line ("nothing to do" when
// empty).
func (p Plan) String() string {
	if len(p.Steps) == 0 {
		return "nothing to do\n"
	}
	var b strings.Builder
	for _, s := range p.Steps {
		b.WriteString(s.String() + "\n")
	}
	return b.String()
}

// planned is a wanted package as the plan sees it: the metadata it will
// have once the plan ran.
type planned struct {
	name     string
	meta     labels.Metadata
	step     *Step // nil when unchanged
	resolved *planResolution
}

// Plan works out the steps that take the location to d, without changing
// anything. A wanted package the lock file pins, installed at the pinned
// digest, costs no registry request; every other one is resolved for the
// root's target (tags listed, the image chosen, a Verifier consulted).
// Every installed package that is neither wanted nor required, directly
// or through others, by a wanted one is removed.
func (r *Root) Plan(ctx context.Context, d Desired) (Plan, error) {
	if err := d.check(); err != nil {
		return Plan{}, err
	}
	recs, damaged, err := r.loc.readState()
	if err != nil {
		return Plan{}, err
	}
	if len(damaged) > 0 {
		return Plan{}, &DamagedError{Records: damaged}
	}
	res, err := r.newResolver(ctx)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{after: map[string][]string{}, resolved: map[string]planResolution{}, root: r}
	var wanted []planned
	for _, w := range d.Extensions {
		p, err := res.planWanted(ctx, w, d.Repository, recs)
		if err != nil {
			return Plan{}, err
		}
		if p.resolved != nil {
			plan.resolved[p.name] = *p.resolved
		}
		wanted = append(wanted, p)
	}
	installs := orderProvidersFirst(wanted)
	for _, p := range installs {
		plan.after[p.name] = providersAmong(p, installs)
	}
	kept, deps := r.requirementsOf(wanted, recs, d.Repository)
	for _, p := range installs {
		if p.step == nil {
			plan.Unchanged = append(plan.Unchanged, p.name)
			continue
		}
		plan.Steps = append(plan.Steps, *p.step)
		plan.Steps = append(plan.Steps, deps[p.name]...)
	}
	slices.Sort(plan.Unchanged)
	plan.Steps = append(plan.Steps, removals(recs, wanted, kept)...)
	return plan, nil
}

// newResolver is an installer that only resolves: it writes nothing to
// the location.
func (r *Root) newResolver(ctx context.Context) (*installer, error) {
	target, err := r.Target(ctx)
	if err != nil {
		return nil, err
	}
	cache, err := r.blobCache()
	if err != nil {
		return nil, err
	}
	i := &installer{r: r, loc: r.loc, target: target, cache: cache, pins: map[string]state.Pin{}}
	if p := i.lockPath(); p != "" {
		if i.lock, err = readLockFile(p); err != nil {
			return nil, err
		}
	} else {
		i.lock = state.LockFile{Packages: map[string]state.Pin{}}
	}
	return i, nil
}

// planWanted decides what to do for one wanted package.
func (i *installer) planWanted(ctx context.Context, w Wanted, repository string, recs map[string]Installed) (planned, error) {
	ref, err := w.reference(repository)
	if err != nil {
		return planned{}, err
	}
	// Pinned and installed at the pin: satisfied, no request.
	if name, e, ok := i.lock.PinnedAs(ref, w.Version); ok {
		if rec, ok := recs[name]; ok && rec.Manifest == e.Digest && !rec.Pending {
			return i.planInstalled(rec, ref, w.Version), nil
		}
	}
	res, src, err := i.resolve(ctx, ref, w.Version)
	if err != nil {
		return planned{}, fmt.Errorf("extension: plan %s: %w", w.Name, err)
	}
	name := cmp.Or(res.Metadata.Package.Name, onlyExtension(res.Metadata), repositoryName(ref))
	if err := checkName(name); err != nil {
		return planned{}, fmt.Errorf("%w (%s)", err, res.Reference)
	}
	rec, installed := recs[name]
	if installed && rec.Manifest == res.Manifest.Digest && !rec.Pending {
		return i.planInstalled(rec, ref, w.Version), nil
	}
	step := &Step{Action: StepInstall, Package: name, Reference: ref, Version: w.Version, To: res.Metadata.Package.Version,
		Manifest: res.Manifest.Digest, Index: res.Index.Digest, Reason: "wanted"}
	if installed {
		step.From = rec.Version
		step.Action = versionChange(rec.Version, step.To)
	}
	meta := res.Metadata
	meta.Package.Name = name
	return planned{name: name, meta: meta, step: step, resolved: &planResolution{res, src}}, nil
}

// planInstalled is a wanted package installed as wanted: unchanged, or
// adopted when it was installed as a dependency.
func (i *installer) planInstalled(rec Installed, ref, version string) planned {
	p := planned{name: rec.Name, meta: rec.metadata()}
	if rec.Dependency {
		p.step = &Step{Action: StepAdopt, Package: rec.Name, Reference: ref, Version: version, From: rec.Version,
			Manifest: rec.Manifest, Index: rec.Index, Reason: "wanted, installed as a dependency until now"}
	}
	return p
}

// onlyExtension is the name of m's only extension, "" unless it has one.
func onlyExtension(m labels.Metadata) string {
	if len(m.Extensions) == 1 {
		return m.Extensions[0].Name
	}
	return ""
}

// versionChange names the change from version from to version to.
func versionChange(from, to string) StepAction {
	a, aerr := resolve.ParseVersion(from)
	b, berr := resolve.ParseVersion(to)
	switch {
	case aerr != nil || berr != nil:
		if from == to {
			return StepRebuild
		}
		return StepUpgrade
	case b.Compare(a) > 0:
		return StepUpgrade
	case b.Compare(a) < 0:
		return StepDowngrade
	}
	return StepRebuild
}

// orderProvidersFirst orders the wanted packages so that one providing an
// extension another requires comes first (a cycle keeps the listed order).
func orderProvidersFirst(wanted []planned) []planned {
	provider := map[string]int{}
	for k, p := range wanted {
		for _, e := range p.meta.Extensions {
			provider[e.Name] = k
		}
	}
	var out []planned
	state := make([]int, len(wanted)) // 0 new, 1 visiting, 2 done
	var visit func(k int)
	visit = func(k int) {
		if state[k] != 0 {
			return
		}
		state[k] = 1
		for _, ext := range requiredExtensions(wanted[k].meta) {
			if j, ok := provider[ext]; ok && j != k {
				visit(j)
			}
		}
		state[k] = 2
		out = append(out, wanted[k])
	}
	for k := range wanted {
		visit(k)
	}
	return out
}

// providersAmong lists the packages of wanted, other than p, that provide
// an extension p requires.
func providersAmong(p planned, wanted []planned) []string {
	var out []string
	req := requiredExtensions(p.meta)
	for _, q := range wanted {
		if q.name == p.name {
			continue
		}
		for _, e := range q.meta.Extensions {
			if slices.Contains(req, e.Name) && !slices.Contains(out, q.name) {
				out = append(out, q.name)
			}
		}
	}
	return out
}

// requirementsOf finds the installed packages the wanted ones need once
// the plan ran (directly or through each other), and the dependencies
// their installs will fetch because nothing provides them: per wanted
// package, a StepDependency each.
func (r *Root) requirementsOf(wanted []planned, recs map[string]Installed, repository string) (kept map[string]bool, deps map[string][]Step) {
	kept, deps = map[string]bool{}, map[string][]Step{}
	provided := map[string]bool{}
	for _, p := range wanted {
		kept[p.name] = true
		for _, e := range p.meta.Extensions {
			provided[e.Name] = true
		}
	}
	type need struct {
		ext string
		by  planned
	}
	var queue []need
	for _, p := range wanted {
		for _, ext := range requiredExtensions(p.meta) {
			queue = append(queue, need{ext, p})
		}
	}
	fetched := map[string]bool{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if provided[n.ext] {
			continue
		}
		provided[n.ext] = true
		if name := providerOf(recs, n.ext, ""); name != "" {
			kept[name] = true
			for _, ext := range requiredExtensions(recs[name].metadata()) {
				queue = append(queue, need{ext, planned{name: name, meta: recs[name].metadata()}})
			}
			continue
		}
		if serverProvides(r.loc.serverShare, n.ext, recs) || fetched[n.ext] {
			continue
		}
		fetched[n.ext] = true
		s := Step{Action: StepDependency, Package: n.ext, For: n.by.name, Reason: "required by " + n.by.name}
		if n.by.step != nil && n.by.step.Reference != "" {
			if from, err := resolve.ParseReference(n.by.step.Reference); err == nil {
				s.Reference, _ = DefaultDependencyRef(n.ext, from)
			}
		}
		deps[n.by.name] = append(deps[n.by.name], s)
	}
	return kept, deps
}

// removals lists the installed packages neither wanted nor kept, each
// after every package to be removed that requires it.
func removals(recs map[string]Installed, wanted []planned, kept map[string]bool) []Step {
	left := map[string]Installed{}
	for name, rec := range recs {
		if !kept[name] {
			left[name] = rec
		}
	}
	var steps []Step
	for len(left) > 0 {
		progress := false
		for _, name := range keysSorted(left) {
			if requiredByOthers(left, left[name]) {
				continue
			}
			rec := left[name]
			reason := "not wanted"
			if rec.Dependency {
				reason = "installed as a dependency, no longer required"
			}
			steps = append(steps, Step{Action: StepRemove, Package: name, From: rec.Version, Manifest: rec.Manifest, Reference: rec.Reference, Reason: reason})
			delete(left, name)
			progress = true
		}
		if !progress { // a requirement cycle: remove in name order
			for _, name := range keysSorted(left) {
				steps = append(steps, Step{Action: StepRemove, Package: name, From: left[name].Version, Manifest: left[name].Manifest, Reason: "not wanted"})
			}
			break
		}
	}
	return steps
}

// requiredByOthers reports whether another package of set requires an
// extension rec provides.
func requiredByOthers(set map[string]Installed, rec Installed) bool {
	provides := extensionNamesOf(rec)
	for name, other := range set {
		if name == rec.Name {
			continue
		}
		for _, ext := range requiredExtensions(other.metadata()) {
			if slices.Contains(provides, ext) {
				return true
			}
		}
	}
	return false
}

// ApplyResult is what [Root.Apply] did.
type ApplyResult struct {
	// Installed lists every package installed or changed, dependencies
	// included, in the order committed.
	Installed []PackageResult
	// Removed lists the packages uninstalled.
	Removed []Removed
}

// StepError is a [Plan] step that failed; the steps before it are done
// and recorded, and a new plan continues from there.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("extension: sync: %s %s: %v", e.Step.Action, e.Step.Package, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Apply runs a plan from [Root.Plan] on the same location. Installs run
// up to RootOptions.Concurrency at a time (a package after the packages
// it requires), each one the exact digest planned; removals run after
// every install succeeded, one at a time. Each step is atomic: on an
// error (a *[StepError]) the steps done stay done and recorded, no new
// step starts, and planning again continues from there.
func (r *Root) Apply(ctx context.Context, plan Plan) (ApplyResult, error) {
	var out ApplyResult
	var installs []Step
	for _, s := range plan.Steps {
		switch s.Action {
		case StepInstall, StepUpgrade, StepDowngrade, StepRebuild, StepAdopt:
			installs = append(installs, s)
		}
	}
	results, err := r.applyInstalls(ctx, plan, installs)
	for _, res := range results {
		out.Installed = append(out.Installed, res.Packages...)
	}
	if err != nil {
		return out, err
	}
	for _, s := range plan.Steps {
		if s.Action != StepRemove {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		removed, err := r.Uninstall(ctx, s.Package, UninstallOptions{})
		if err != nil && !errors.Is(err, ErrNotInstalled) {
			return out, &StepError{Step: s, Err: err}
		}
		if err == nil {
			out.Removed = append(out.Removed, removed)
		}
	}
	return out, nil
}

// Sync plans and applies in one call: the location converges to d. A
// sync of a location already as d says changes nothing, and with the lock
// file makes no registry request.
func (r *Root) Sync(ctx context.Context, d Desired) (Plan, ApplyResult, error) {
	plan, err := r.Plan(ctx, d)
	if err != nil {
		return plan, ApplyResult{}, err
	}
	res, err := r.Apply(ctx, plan)
	return plan, res, err
}

// Prune uninstalls the packages installed as dependencies that no other
// installed package requires any more (after an uninstall, or an upgrade
// that dropped a requirement), until none is left, and returns them.
func (r *Root) Prune(ctx context.Context) ([]Removed, error) {
	var out []Removed
	for {
		recs, err := r.loc.readRecords()
		if err != nil {
			return out, err
		}
		var orphan string
		for _, name := range keysSorted(recs) {
			if rec := recs[name]; rec.Dependency && !rec.Pending && !requiredByOthers(recs, rec) {
				orphan = name
				break
			}
		}
		if orphan == "" {
			return out, nil
		}
		removed, err := r.Uninstall(ctx, orphan, UninstallOptions{})
		if err != nil {
			return out, err
		}
		out = append(out, removed)
	}
}
