package catalog

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

// DefaultMaxTags is how many version tags per repository [Build] records,
// newest first.
const DefaultMaxTags = 100

// PublishOptions configures [Build] and [Publish]. The zero value
// records every repository /v2/_catalog lists under the prefix, the 100
// newest version tags of each, reading at most 10 pages of 1000 tags
// per repository.
type PublishOptions struct {
	// Remote configures registry access.
	Remote resolve.RemoteOptions
	// Repositories are the paths below the prefix to record ("pgvector",
	// "contrib/hstore"). Default: every repository the registry's
	// /v2/_catalog lists under the prefix (an error when it answers
	// none).
	Repositories []string
	// MaxTags is how many version tags (those [resolve.ParseTag] reads
	// as versions, pre-releases included) are recorded per repository,
	// newest first. Default: [DefaultMaxTags]; at most [MaxTags].
	MaxTags int
	// TagPageSize and MaxTagPages bound the tags list of each repository
	// as in [extension.ListVersionsOptions]; more tags is
	// [extension.ErrTooManyTags].
	TagPageSize, MaxTagPages int
	// PageSize, MaxPages and MaxRepositories bound /v2/_catalog as in
	// [Options].
	PageSize, MaxPages, MaxRepositories int
	// Annotations are set on the artifact's manifest, e.g.
	// org.opencontainers.image.created. Default: none, so that the same
	// content publishes to the same digest.
	Annotations map[string]string
	// Concurrency is how many repositories are read at once. Default:
	// [DefaultConcurrency].
	Concurrency int
}

// Published is what [Publish] wrote.
type Published struct {
	// Reference is "PREFIX/catalog:latest@digest".
	Reference string
	// Manifest is the artifact's manifest; Document its one layer.
	Manifest ocispec.Descriptor
	Document ocispec.Descriptor
	// Repositories, Tags and Manifests count what the document records.
	Repositories, Tags, Manifests int
	// Skipped lists the tags left out and why: an index that does not
	// verify, a nested index, too many manifests.
	Skipped []string
}

// Publish builds the catalog document of the repositories under prefix
// ([Build]) and pushes it as an OCI artifact to PREFIX/catalog, tagged
// latest: a manifest of artifactType [ArtifactType], the empty config,
// and one layer of [DocumentMediaType]. The tag is written last, with
// the manifest, so that a reader sees the old catalog or the new one.
func Publish(ctx context.Context, prefix string, opts PublishOptions) (Published, error) {
	doc, skipped, err := Build(ctx, prefix, opts)
	if err != nil {
		return Published{}, err
	}
	p, _ := parsePrefix(prefix) // Build parsed it
	name := p.repo(RepositoryName)
	repo, err := resolve.Remote(name, opts.Remote)
	if err != nil {
		return Published{}, err
	}
	ref := resolve.Reference{Registry: p.host, Repository: strings.TrimPrefix(name, p.host+"/"), Tag: Tag}
	pub, err := push(ctx, repo, doc, opts.Annotations)
	if err != nil {
		return Published{}, resolve.ExplainAuth(fmt.Errorf("catalog: publish %s:%s: %w", name, Tag, err), ref)
	}
	pub.Reference = name + ":" + Tag + "@" + pub.Manifest.Digest.String()
	pub.Skipped = skipped
	pub.Repositories = len(doc.Repositories)
	for _, r := range doc.Repositories {
		pub.Tags += len(r.Tags)
		for _, t := range r.Tags {
			pub.Manifests += len(t.Manifests)
		}
	}
	return pub, nil
}

// push writes the document, the empty config and the manifest, tagged.
func push(ctx context.Context, repo *remote.Repository, doc *Document, annotations map[string]string) (Published, error) {
	body, err := doc.Marshal()
	if err != nil {
		return Published{}, err
	}
	layer := content.NewDescriptorFromBytes(DocumentMediaType, body)
	config := ocispec.DescriptorEmptyJSON
	config.Data = nil
	for _, b := range []struct {
		d    ocispec.Descriptor
		data []byte
	}{{config, []byte("{}")}, {layer, body}} {
		ok, err := repo.Exists(ctx, b.d)
		if err != nil {
			return Published{}, err
		}
		if !ok {
			if err := repo.Push(ctx, b.d, bytes.NewReader(b.data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
				return Published{}, err
			}
		}
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Annotations:  annotations,
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return Published{}, err
	}
	md := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, mb)
	if err := repo.PushReference(ctx, md, bytes.NewReader(mb), Tag); err != nil {
		return Published{}, err
	}
	return Published{Manifest: md, Document: layer}, nil
}

// Build reads the repositories under prefix and returns the catalog
// document [Publish] would write, and the tags it left out, with why.
//
// For each repository it lists the tags (bounded as [ListVersions]
// bounds them), keeps the opts.MaxTags newest that name a version, and
// reads what each names: the index (one GET per distinct digest), each
// of its manifests (one GET per distinct digest), and a manifest's
// config only when neither the index nor a single manifest says the
// platform. Everything is verified by digest and size as the resolver
// verifies it. A tag whose content does not verify, or that holds a
// nested index or more than [MaxManifests] manifests, is left out and
// reported; a failure to reach a repository fails the build.
//
// [ListVersions]: extension.ListVersions
func Build(ctx context.Context, prefix string, opts PublishOptions) (*Document, []string, error) {
	p, err := parsePrefix(prefix)
	if err != nil {
		return nil, nil, err
	}
	names := slices.Clone(opts.Repositories)
	if len(names) == 0 {
		lo := Options{Remote: opts.Remote, PageSize: opts.PageSize, MaxPages: opts.MaxPages, MaxRepositories: opts.MaxRepositories}.withDefaults()
		if names, err = listRegistry(ctx, p, lo); err != nil {
			return nil, nil, fmt.Errorf("%w (name the repositories instead)", err)
		}
	}
	for _, n := range names {
		if err := checkRepositoryPath(n); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrPrefix, err)
		}
		if n == RepositoryName {
			return nil, nil, fmt.Errorf("%w: %s is where the catalog goes, not an extension repository", ErrPrefix, p.repo(n))
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if max := orInt(opts.MaxRepositories, DefaultMaxRepositories); len(names) > min(max, MaxRepositories) {
		return nil, nil, fmt.Errorf("%w: %d repositories, over the limit of %d", ErrTooManyRepositories, len(names), min(max, MaxRepositories))
	}
	doc := &Document{SchemaVersion: SchemaVersion, Repositories: make([]RepositoryEntry, len(names))}
	skipped := make([][]string, len(names))
	errs := make([]error, len(names))
	var (
		wg  sync.WaitGroup
		sem = make(chan struct{}, orInt(opts.Concurrency, DefaultConcurrency))
	)
	for i, n := range names {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			doc.Repositories[i], skipped[i], errs[i] = buildRepository(ctx, p, n, opts)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return doc, slices.Concat(skipped...), nil
}

// builder reads one repository, fetching each manifest and config
// once.
type builder struct {
	src     *remote.Repository
	name    string
	read    map[digest.Digest]readManifest
	tags    map[digest.Digest]TagEntry
	skipped []string
}

// readManifest is a verified manifest and, when it was read, its
// config's platform and labels.
type readManifest struct {
	m         ocispec.Manifest
	platform  *ocispec.Platform
	cfgLabels map[string]string
}

func buildRepository(ctx context.Context, p prefix, rel string, opts PublishOptions) (RepositoryEntry, []string, error) {
	name := p.repo(rel)
	remote := opts.Remote
	remote.TagPageSize = orInt(opts.TagPageSize, extension.DefaultTagPageSize)
	remote.MaxTagPages = orInt(opts.MaxTagPages, extension.DefaultMaxTagPages)
	src, err := resolve.Remote(name, remote)
	if err != nil {
		return RepositoryEntry{}, nil, err
	}
	ref := resolve.Reference{Registry: p.host, Repository: strings.TrimPrefix(name, p.host+"/")}
	tags, err := readTags(ctx, src, name, remote.MaxTagPages)
	if err != nil {
		return RepositoryEntry{}, nil, resolve.ExplainAuth(err, ref)
	}
	b := &builder{src: src, name: name, read: map[digest.Digest]readManifest{}, tags: map[digest.Digest]TagEntry{}}
	entry := RepositoryEntry{Name: rel, Tags: []TagEntry{}}
	for _, tag := range newestTags(tags, min(orInt(opts.MaxTags, DefaultMaxTags), MaxTags)) {
		if err := ctx.Err(); err != nil {
			return RepositoryEntry{}, nil, err
		}
		t, ok, err := b.tag(ctx, tag)
		if err != nil {
			return RepositoryEntry{}, nil, resolve.ExplainAuth(fmt.Errorf("catalog: %s:%s: %w", name, tag, err), ref)
		}
		if ok {
			entry.Tags = append(entry.Tags, t)
		}
	}
	return entry, b.skipped, nil
}

// readTags lists the tags of src, at most maxPages pages.
func readTags(ctx context.Context, src *remote.Repository, name string, maxPages int) ([]string, error) {
	var tags []string
	pages := 0
	err := src.Tags(ctx, "", func(page []string) error {
		pages++
		if pages > maxPages || len(tags)+len(page) > 100_000 {
			return errdef.ErrTooManyPages
		}
		tags = append(tags, page...)
		return ctx.Err()
	})
	if errors.Is(err, errdef.ErrTooManyPages) {
		return nil, fmt.Errorf("%w: %s lists more than %d pages of tags; raise PublishOptions.MaxTagPages (pgoci: --max-tag-pages)",
			extension.ErrTooManyTags, name, maxPages)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: list the tags of %s: %w", name, err)
	}
	return tags, nil
}

// newestTags returns the tags that name a version, newest version first
// (then the newest build, then by name), at most n.
func newestTags(tags []string, n int) []string {
	var parsed []resolve.Tag
	for _, t := range tags {
		if tag, ok := resolve.ParseTag(t); ok {
			parsed = append(parsed, tag)
		}
	}
	slices.SortFunc(parsed, func(a, b resolve.Tag) int {
		return cmp.Or(b.Version.Compare(a.Version), strings.Compare(b.Build, a.Build), strings.Compare(a.Name, b.Name))
	})
	out := make([]string, 0, min(n, len(parsed)))
	for _, t := range parsed[:min(n, len(parsed))] {
		out = append(out, t.Name)
	}
	return out
}

// tag reads what tag names. ok is false when the tag is left out (noted
// in b.skipped); err is a failure to reach the registry.
func (b *builder) tag(ctx context.Context, tag string) (TagEntry, bool, error) {
	d, body, err := resolve.FetchObject(ctx, b.src, tag)
	if err != nil {
		return TagEntry{}, false, b.unusable(tag, err)
	}
	if t, ok := b.tags[d.Digest]; ok {
		// Another tag of the same content (CloudNativePG's moving and
		// build tags): its manifests are known.
		t.Tag = tag
		return t, true, nil
	}
	t := TagEntry{Tag: tag, Digest: d.Digest, MediaType: d.MediaType}
	switch {
	case resolve.IsIndexMediaType(d.MediaType):
		idx, err := resolve.DecodeIndex(d, body)
		if err != nil {
			return TagEntry{}, false, b.unusable(tag, err)
		}
		if len(idx.Manifests) > MaxManifests {
			b.skip(tag, fmt.Sprintf("index %s lists %d manifests, over %d", d.Digest, len(idx.Manifests), MaxManifests))
			return TagEntry{}, false, nil
		}
		for _, m := range idx.Manifests {
			if isAttestation(m) {
				continue
			}
			if !resolve.IsManifestMediaType(m.MediaType) {
				b.skip(tag, fmt.Sprintf("index %s holds %s (%s), not an image manifest; nested indexes are not recorded", d.Digest, m.Digest, m.MediaType))
				return TagEntry{}, false, nil
			}
			e, err := b.manifest(ctx, m, nil)
			if err != nil {
				return TagEntry{}, false, b.unusable(tag, err)
			}
			t.Manifests = append(t.Manifests, e)
		}
		if len(t.Manifests) == 0 {
			b.skip(tag, fmt.Sprintf("index %s holds no image", d.Digest))
			return TagEntry{}, false, nil
		}
	case resolve.IsManifestMediaType(d.MediaType):
		e, err := b.manifest(ctx, d, body)
		if err != nil {
			return TagEntry{}, false, b.unusable(tag, err)
		}
		t.Manifests = []ManifestEntry{e}
	default:
		b.skip(tag, fmt.Sprintf("%s is a %q, not an image index or manifest", d.Digest, d.MediaType))
		return TagEntry{}, false, nil
	}
	b.tags[d.Digest] = t
	return t, true, nil
}

// unusable notes a tag whose content does not verify and returns nil,
// or returns err when it is a failure to reach the registry.
func (b *builder) unusable(tag string, err error) error {
	for _, e := range []error{resolve.ErrDigest, resolve.ErrSize, resolve.ErrTooLarge, resolve.ErrMediaType,
		resolve.ErrInvalidManifest, errdef.ErrNotFound} {
		if errors.Is(err, e) {
			b.skip(tag, err.Error())
			return nil
		}
	}
	return err
}

func (b *builder) skip(tag, why string) {
	b.skipped = append(b.skipped, fmt.Sprintf("%s:%s: %s", b.name, tag, why))
}

// manifest reads the manifest d names (body when already fetched) and
// records its platform, labels and directories. The config is read
// only when d does not say the platform.
func (b *builder) manifest(ctx context.Context, d ocispec.Descriptor, body []byte) (ManifestEntry, error) {
	var platform ocispec.Platform
	if d.Platform != nil {
		platform = *d.Platform
	}
	needConfig := platform.OS == "" || platform.Architecture == ""
	r, ok := b.read[d.Digest]
	if !ok || (needConfig && r.platform == nil) {
		var err error
		if r, err = b.readManifest(ctx, d, body, needConfig); err != nil {
			return ManifestEntry{}, err
		}
		b.read[d.Digest] = r
	}
	merged := map[string]string{}
	maps.Copy(merged, d.Annotations)
	if needConfig && r.platform != nil {
		platform = *r.platform
		maps.Copy(merged, r.cfgLabels)
	}
	maps.Copy(merged, r.m.Annotations)
	e := ManifestEntry{Digest: d.Digest, Size: d.Size,
		Platform: Platform{OS: platform.OS, Architecture: platform.Architecture, Variant: platform.Variant}}
	if !platformRE.MatchString(e.Platform.OS) || !platformRE.MatchString(e.Platform.Architecture) ||
		(e.Platform.Variant != "" && !platformRE.MatchString(e.Platform.Variant)) ||
		len(e.Platform.OS) > maxPlatformField || len(e.Platform.Architecture) > maxPlatformField || len(e.Platform.Variant) > maxPlatformField {
		return ManifestEntry{}, fmt.Errorf("%w: manifest %s: platform %q is unknown or malformed", resolve.ErrInvalidManifest, d.Digest, truncate(resolve.PlatformString(platform)))
	}
	e.Labels = selectionLabels(merged)
	if meta, err := labels.Parse(merged); err == nil {
		e.Dirs, e.DirsComplete = extension.ImageDirs(meta)
	}
	return e, nil
}

// readManifest fetches (unless body holds it), verifies and decodes a
// manifest, and its config when withConfig.
func (b *builder) readManifest(ctx context.Context, d ocispec.Descriptor, body []byte, withConfig bool) (readManifest, error) {
	var err error
	if body == nil {
		if body, err = resolve.FetchVerified(ctx, b.src, d); err != nil {
			return readManifest{}, err
		}
	}
	var r readManifest
	if r.m, err = resolve.DecodeManifest(d, body); err != nil {
		return readManifest{}, err
	}
	if withConfig && resolve.IsConfigMediaType(r.m.Config.MediaType) {
		cb, err := resolve.FetchVerified(ctx, b.src, r.m.Config)
		if err != nil {
			return readManifest{}, err
		}
		var img ocispec.Image
		if err := json.Unmarshal(cb, &img); err != nil {
			return readManifest{}, fmt.Errorf("%w: config %s: %v", resolve.ErrInvalidManifest, r.m.Config.Digest, err)
		}
		r.platform, r.cfgLabels = &img.Platform, img.Config.Labels
	}
	return r, nil
}

// isAttestation reports the index entries that are not images:
// buildkit's attestation manifests (platform unknown/unknown, or a
// vnd.docker.reference.type annotation).
func isAttestation(d ocispec.Descriptor) bool {
	if _, ok := d.Annotations["vnd.docker.reference.type"]; ok {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// documentKeys are the labels a document keeps: what the compatibility
// check and the catalog's readers use.
var documentKeys = map[string]bool{
	labels.KeySchemaVersion: true, labels.KeyPackageName: true, labels.KeyPackageVersion: true,
	labels.KeyExtensions: true, labels.KeyPGMajor: true, labels.KeyPGVersionNum: true, labels.KeyPGVersion: true,
	labels.KeyLibcFamily: true, labels.KeyLibcVersion: true, labels.KeyLibcRequires: true,
	labels.KeyDistroID: true, labels.KeyDistroVersion: true, labels.KeyDistroCodename: true,
	labels.KeyBaseName: true, labels.KeyBaseDigest: true, labels.KeyICUMajor: true, labels.KeyCompiler: true,
	labels.KeyPreload: true, labels.KeyRestart: true, labels.KeyModules: true, labels.KeyPrograms: true,
	labels.KeyCNPGBaseName: true, labels.KeyCNPGBasePGMajor: true, labels.KeyCNPGBaseOS: true, labels.KeyCNPGSQLVersion: true,
	labels.KeyPGXNPGMajor: true, labels.KeyPGXNPGVersionNum: true, labels.KeyPGXNPGVersion: true,
	labels.KeyOCIVersion: true,
}

// selectionLabels keeps the document's keys of merged, and each
// extension's default version, within the document's bounds.
func selectionLabels(merged map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range merged {
		keep := documentKeys[k]
		if rest, ok := strings.CutPrefix(k, labels.KeyExtensionPrefix); ok {
			keep = strings.HasSuffix(rest, "."+labels.ExtVersion)
		}
		if keep && len(k) <= maxLabelKey && len(v) <= maxLabelValue {
			out[k] = v
		}
	}
	if len(out) > MaxLabels {
		// Only per-extension versions can be this many: drop them all
		// rather than keep an arbitrary subset.
		for k := range out {
			if strings.HasPrefix(k, labels.KeyExtensionPrefix) {
				delete(out, k)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
