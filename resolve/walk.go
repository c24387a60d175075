package resolve

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/labels"
)

const (
	// maxDepth bounds index nesting (an index of indexes of manifests
	// is depth 2).
	maxDepth = 4
	// maxFetches bounds the manifests, nested indexes and configs one
	// resolve fetches, so a hostile index of thousands of unannotated
	// entries cannot make it fetch them all.
	maxFetches = 64
)

// walker resolves one tag or digest: it reads the index, preselects
// candidates from their descriptors, then fetches the best ones until
// one passes the full check.
type walker struct {
	src      Source
	ref      Reference
	t        Target
	opts     Options
	fetches  int
	rejected []Candidate
	tag      string
}

// candidate is a manifest found in an index (or named directly).
type candidate struct {
	desc     ocispec.Descriptor
	annots   []map[string]string // index descriptor annotations, outer first
	platform ocispec.Platform    // from the index descriptors, if any
	body     []byte              // the manifest, when already fetched
	pre      []Finding           // findings from the descriptors alone
	distance int                 // platform variant fallback distance
	order    int
}

func newWalker(src Source, ref Reference, t Target, opts Options) *walker {
	return &walker{src: src, ref: ref, t: t, opts: opts}
}

func (w *walker) resolve(ctx context.Context, object, tag string) (Resolved, error) {
	w.tag = tag
	d, body, err := FetchObject(ctx, w.src, object)
	if err != nil {
		return Resolved{}, err
	}
	var (
		index ocispec.Descriptor
		cands []*candidate
	)
	switch {
	case IsIndexMediaType(d.MediaType):
		index = d
		if cands, err = w.collect(ctx, d, body, nil, 1); err != nil {
			return Resolved{}, err
		}
	case IsManifestMediaType(d.MediaType):
		cands = []*candidate{{desc: d, body: body}}
	default:
		return Resolved{}, checkShape(d, body)
	}
	res, err := w.choose(ctx, cands)
	if err != nil {
		return Resolved{}, err
	}
	res.Index, res.Tag = index, tag
	return res, nil
}

func (w *walker) fetch(ctx context.Context, d ocispec.Descriptor) ([]byte, error) {
	if w.fetches >= maxFetches {
		return nil, fmt.Errorf("%w: %s: more than %d manifests and configs to fetch; annotate the index", ErrIncompatible, w.ref, maxFetches)
	}
	w.fetches++
	return FetchVerified(ctx, w.src, d)
}

// collect lists the manifests of an index, descending into nested
// indexes whose platform (if stated) suits the target. Attestations and
// entries that are neither manifests nor indexes are skipped.
func (w *walker) collect(ctx context.Context, d ocispec.Descriptor, body []byte, annots []map[string]string, depth int) ([]*candidate, error) {
	idx, err := DecodeIndex(d, body)
	if err != nil {
		return nil, err
	}
	var out []*candidate
	for _, m := range idx.Manifests {
		if len(m.Annotations) > maxEntryAnnotations {
			// Every candidate below carries these into its label parse:
			// a few hundred thousand keys would cost minutes per resolve.
			return nil, fmt.Errorf("%w: index %s: entry %s carries %d annotations (at most %d)",
				ErrInvalidManifest, d.Digest, m.Digest, len(m.Annotations), maxEntryAnnotations)
		}
		if isAttestation(m) {
			continue
		}
		chain := append(slicesClone(annots), m.Annotations)
		// An entry's platform is its own: one a nested index's entry does
		// not state is unknown (its config says), not the outer entry's.
		var plat ocispec.Platform
		if m.Platform != nil {
			plat = *m.Platform
		}
		switch {
		case IsIndexMediaType(m.MediaType):
			if depth >= maxDepth {
				return nil, fmt.Errorf("%w: %s", ErrTooDeep, m.Digest)
			}
			if f := comparePlatform(w.t, plat, Unknown); f.Status == Mismatch {
				w.reject(m, plat, []Finding{f})
				continue
			}
			b, err := w.fetch(ctx, m)
			if err != nil {
				return nil, err
			}
			sub, err := w.collect(ctx, m, b, chain, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case IsManifestMediaType(m.MediaType):
			out = append(out, &candidate{desc: m, annots: chain, platform: plat})
		}
	}
	return out, nil
}

func slicesClone(ms []map[string]string) []map[string]string {
	return append([]map[string]string(nil), ms...)
}

func (w *walker) reject(d ocispec.Descriptor, p ocispec.Platform, fs []Finding) {
	w.rejected = append(w.rejected, Candidate{Descriptor: d, Tag: w.tag, Platform: p, Findings: fs})
}

// choose preselects on what the index says, then fetches candidates best
// first until one passes the full check.
func (w *walker) choose(ctx context.Context, cands []*candidate) (Resolved, error) {
	var live []*candidate
	for i, c := range cands {
		if err := ctx.Err(); err != nil {
			return Resolved{}, err
		}
		c.order = i
		meta, _ := labels.Parse(merge(c.annots...)) // best effort: only known values reject
		c.pre = compare(w.opts.Policy, w.t, c.platform, meta)
		c.distance = 1 << 20 // unknown platforms last
		if d, ok := MatchPlatform(w.t.Platform, c.platform); ok && platformKnown(c.platform) {
			c.distance = d
		}
		if definiteMismatch(c.pre) {
			w.reject(c.desc, c.platform, c.pre)
			continue
		}
		live = append(live, c)
	}
	if err := w.ambiguousMajor(live); err != nil {
		return Resolved{}, err
	}
	sort.SliceStable(live, func(i, j int) bool { return better(live[i], live[j]) })
	for _, c := range live {
		if err := ctx.Err(); err != nil {
			return Resolved{}, err
		}
		res, ok, err := w.evaluate(ctx, c)
		if err != nil {
			return Resolved{}, err
		}
		if ok {
			res.Rejected = w.rejected
			return res, nil
		}
	}
	return Resolved{}, &IncompatibleError{Reference: w.ref.Name(), Target: w.t, Policy: w.opts.Policy, Candidates: w.rejected}
}

// ambiguousMajor refuses to choose between images of several PostgreSQL
// majors (as their index entries state them) for a target whose major is
// unknown: a module built for another major crashes the server, and
// nothing says which one this server runs.
func (w *walker) ambiguousMajor(live []*candidate) error {
	if w.t.PG.Major != 0 {
		return nil
	}
	var majors []int
	for _, c := range live {
		if n, err := strconv.Atoi(found(c.pre, PropPGMajor)); err == nil && !slices.Contains(majors, n) {
			majors = append(majors, n)
		}
	}
	if len(majors) < 2 {
		return nil
	}
	slices.Sort(majors)
	list := make([]string, len(majors))
	for i, n := range majors {
		list[i] = strconv.Itoa(n)
	}
	return fmt.Errorf("%w: %s has images for PostgreSQL %s and the target's major is unknown: state it (Target.PG.Major; pgoci --pg-major N, or --pg-config PATH)",
		ErrAmbiguous, w.ref.Name(), strings.Join(list, ", "))
}

// definiteMismatch reports a mismatch between two known values of a
// property the descriptors carry. Under Strict, distribution and base
// are decided after the fetch, when both are known.
func definiteMismatch(fs []Finding) bool {
	for _, f := range fs {
		if f.Status != Mismatch || f.Want == "" || f.Found == "" {
			continue
		}
		if f.Property != PropDistro && f.Property != PropBase {
			return true
		}
	}
	return false
}

// better orders candidates: fewer properties unknown in the index first,
// then the closest platform variant, then the newest libc (all of them
// no newer than the target's), then index order.
func better(a, b *candidate) bool {
	if ua, ub := unknowns(a.pre), unknowns(b.pre); ua != ub {
		return ua < ub
	}
	if a.distance != b.distance {
		return a.distance < b.distance
	}
	if found(a.pre, PropLibcFamily) == found(b.pre, PropLibcFamily) {
		if c, ok := compareDotted(found(a.pre, PropLibcVersion), found(b.pre, PropLibcVersion)); ok && c != 0 {
			return c > 0
		}
	}
	return a.order < b.order
}

func unknowns(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Found == "" && f.Property != PropDistro && f.Property != PropBase {
			n++
		}
	}
	return n
}

func found(fs []Finding, p Property) string {
	for _, f := range fs {
		if f.Property == p {
			return f.Found
		}
	}
	return ""
}

// merge overlays maps, later ones winning.
// maxEntryAnnotations bounds the annotations of one index entry; the
// selection subset pgoci writes is about a dozen.
const maxEntryAnnotations = 512

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// evaluate fetches the candidate's manifest (and config when the labels
// or platform need it), merges the labels and runs the full check. ok is
// false when the candidate was rejected (recorded); err is a fetch or
// verification failure, which stops the resolve.
func (w *walker) evaluate(ctx context.Context, c *candidate) (Resolved, bool, error) {
	body := c.body
	if body == nil {
		var err error
		if body, err = w.fetch(ctx, c.desc); err != nil {
			return Resolved{}, false, err
		}
	}
	man, err := DecodeManifest(c.desc, body)
	if err != nil {
		return Resolved{}, false, err
	}
	platform := c.platform
	chain := append(slicesClone(c.annots), man.Annotations)
	pre, _ := labels.Parse(merge(chain...))
	var img *ocispec.Image
	// The config is read when the index and manifest leave the platform,
	// the major or the C library unknown: its labels may say what they
	// do not, and the hard rule depends on all three.
	needConfig := !platformKnown(platform) || imageMajor(pre.PG) == 0 || pre.Libc.Family == "" || pre.Libc.Version == ""
	if (w.opts.FetchConfig || needConfig) && IsConfigMediaType(man.Config.MediaType) {
		if img, err = w.config(ctx, man.Config); err != nil {
			return Resolved{}, false, err
		}
		if f, ok := platformConflict(c, img); !ok {
			w.reject(c.desc, platform, []Finding{f})
			return Resolved{}, false, nil
		}
		if !platformKnown(platform) {
			platform = img.Platform
		}
		// Precedence: index descriptors < config labels < manifest.
		chain = append(slicesClone(c.annots), img.Config.Labels, man.Annotations)
	}
	meta, err := labels.Parse(merge(chain...))
	if err != nil {
		w.reject(c.desc, platform, []Finding{{Property: PropLabels, Want: "valid labels", Found: err.Error(), Status: Mismatch}})
		return Resolved{}, false, nil
	}
	fs, err := Check(w.opts.Policy, w.t, platform, meta)
	if err != nil {
		w.reject(c.desc, platform, fs)
		return Resolved{}, false, nil
	}
	d := c.desc
	d.Platform = &platform
	res := Resolved{
		Reference:    w.ref.at(d),
		Manifest:     d,
		ManifestBody: man,
		Config:       man.Config,
		Image:        img,
		Platform:     platform,
		Metadata:     meta,
	}
	for _, f := range fs {
		if f.Status != Match {
			res.Report = append(res.Report, f)
		}
	}
	return res, true, nil
}

func (w *walker) config(ctx context.Context, d ocispec.Descriptor) (*ocispec.Image, error) {
	b, err := w.fetch(ctx, d)
	if err != nil {
		return nil, err
	}
	var img ocispec.Image
	if err := json.Unmarshal(b, &img); err != nil {
		return nil, fmt.Errorf("%w: config %s: %v", ErrInvalidManifest, d.Digest, err)
	}
	return &img, nil
}

// platformConflict catches an index that lies about a manifest's
// platform: the config is what the image really is.
func platformConflict(c *candidate, img *ocispec.Image) (Finding, bool) {
	if !platformKnown(c.platform) || !platformKnown(img.Platform) {
		return Finding{}, true
	}
	if _, ok := MatchPlatform(c.platform, img.Platform); ok {
		if _, ok := MatchPlatform(img.Platform, c.platform); ok {
			return Finding{}, true
		}
	}
	return Finding{Property: PropPlatform, Want: "index platform " + PlatformString(c.platform),
		Found: "config platform " + PlatformString(img.Platform), Status: Mismatch}, false
}
