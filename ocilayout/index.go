package ocilayout

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
)

func emptyIndex() ocispec.Index {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	return idx
}

// Index returns index.json as it is now. Reads take no lock: index.json
// is only ever replaced whole by a rename, so a reader sees the old or
// the new file, never a mix.
func (s *Store) Index(_ context.Context) (ocispec.Index, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, ocispec.ImageIndexFile))
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("%w: %s: %v", ErrNotLayout, s.dir, err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return ocispec.Index{}, fmt.Errorf("%w: %s: index.json: %v", ErrNotLayout, s.dir, err)
	}
	if idx.SchemaVersion != 2 {
		return ocispec.Index{}, fmt.Errorf("%w: %s: index.json schemaVersion %d, want 2", ErrNotLayout, s.dir, idx.SchemaVersion)
	}
	return idx, nil
}

// withLock runs fn holding the exclusive lock on the layout's lock file.
func (s *Store) withLock(fn func() error) error {
	// O_NOFOLLOW: a lock file planted as a symlink must not make pgoci
	// create or open a file elsewhere.
	f, err := os.OpenFile(filepath.Join(s.dir, lockFile), os.O_CREATE|os.O_RDWR|oNoFollow, 0o644)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLock, err)
	}
	defer f.Close() // closing the last descriptor releases the lock
	if err := lock(f); err != nil {
		return err
	}
	return fn()
}

// update re-reads index.json under the lock, lets fn change it, and
// writes it back atomically when fn reports a change.
func (s *Store) update(ctx context.Context, fn func(*ocispec.Index) bool) error {
	return s.withLock(func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx, err := s.Index(ctx)
		if err != nil {
			return err
		}
		if idx.Manifests == nil {
			idx.Manifests = []ocispec.Descriptor{}
		}
		if !fn(&idx) {
			return nil
		}
		return s.writeIndex(idx)
	})
}

func (s *Store) writeIndex(idx ocispec.Index) error {
	b, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("ocilayout: encode index.json: %w", err)
	}
	return s.writeAtomic(ocispec.ImageIndexFile, b)
}

// writeAtomic replaces the file name in the layout directory by b: a
// temporary file, synced, renamed, and the directory synced, so that a
// crash leaves the old file or the new one, never a partial one.
func (s *Store) writeAtomic(name string, b []byte) error {
	tmp, err := os.CreateTemp(s.dir, "."+name+"-*")
	if err != nil {
		return fmt.Errorf("ocilayout: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("ocilayout: write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("ocilayout: sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ocilayout: close %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("ocilayout: %w", err)
	}
	return syncDir(s.dir)
}

// Tag points the tag ref at d: the index.json entry of d gets ref as its
// org.opencontainers.image.ref.name annotation, and an entry holding ref
// before is removed (a re-tag replaces, as the image-layout spec wants).
// The blob of d must be in the store. A ref that is d's digest string
// records d as an untagged entry, the way oras-go's OCI store does.
func (s *Store) Tag(ctx context.Context, d ocispec.Descriptor, ref string) error {
	ok, err := s.Exists(ctx, d)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: tag %q: blob %s: %w", ErrNotFound, truncate(ref), d.Digest, errdef.ErrNotFound)
	}
	if ref == d.Digest.String() {
		return s.addUntagged(d)
	}
	if err := checkTag(ref); err != nil {
		return err
	}
	if _, err := digest.Parse(ref); err == nil {
		return fmt.Errorf("%w: %q is a digest other than %s's", ErrInvalidTag, truncate(ref), d.Digest)
	}
	entry := withRefName(d, ref)
	return s.update(ctx, func(idx *ocispec.Index) bool {
		idx.Manifests = slices.DeleteFunc(idx.Manifests, func(e ocispec.Descriptor) bool {
			name, tagged := e.Annotations[ocispec.AnnotationRefName]
			return name == ref || (!tagged && e.Digest == d.Digest) // an untagged entry of d is now redundant
		})
		idx.Manifests = append(idx.Manifests, entry)
		return true
	})
}

// addUntagged records d in index.json without a tag unless an entry of
// d is already there.
func (s *Store) addUntagged(d ocispec.Descriptor) error {
	entry := withRefName(d, "")
	return s.update(context.Background(), func(idx *ocispec.Index) bool {
		if slices.ContainsFunc(idx.Manifests, func(e ocispec.Descriptor) bool { return e.Digest == d.Digest }) {
			return false
		}
		idx.Manifests = append(idx.Manifests, entry)
		return true
	})
}

// withRefName returns a copy of d, its annotations copied, with ref.name
// set to ref ("" removes it).
func withRefName(d ocispec.Descriptor, ref string) ocispec.Descriptor {
	e := ocispec.Descriptor{
		MediaType:    d.MediaType,
		Digest:       d.Digest,
		Size:         d.Size,
		ArtifactType: d.ArtifactType,
		Platform:     d.Platform,
	}
	for k, v := range d.Annotations {
		if k == ocispec.AnnotationRefName {
			continue
		}
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[k] = v
	}
	if ref != "" {
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[ocispec.AnnotationRefName] = ref
	}
	return e
}

// checkTag accepts what the image-spec's ref.name allows and more (any
// printable text without "/" at the ends), but not what would break
// tools: empty, over 256 bytes, control characters.
func checkTag(ref string) error {
	if ref == "" || len(ref) > 256 || strings.IndexFunc(ref, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: %q", ErrInvalidTag, truncate(ref))
	}
	return nil
}

// Untag removes the entry tagged ref from index.json. The blobs stay.
func (s *Store) Untag(ctx context.Context, ref string) error {
	if err := checkTag(ref); err != nil {
		return err
	}
	found := false
	err := s.update(ctx, func(idx *ocispec.Index) bool {
		idx.Manifests = slices.DeleteFunc(idx.Manifests, func(e ocispec.Descriptor) bool {
			hit := e.Annotations[ocispec.AnnotationRefName] == ref
			found = found || hit
			return hit
		})
		return found
	})
	if err == nil && !found {
		return fmt.Errorf("%w: tag %q: %w", ErrNotFound, truncate(ref), errdef.ErrNotFound)
	}
	return err
}

// Resolve returns the descriptor tagged ref, or, for a digest, the
// index.json entry of that digest or else the blob itself (its media type
// read from the content's mediaType field). The ref.name annotation is
// not part of the answer.
func (s *Store) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	idx, err := s.Index(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	dg, isDigest := digest.Parse(ref)
	for _, e := range idx.Manifests {
		// A digest is looked up by digest only: a ref.name annotation that
		// spells another digest must not answer for it.
		if (isDigest == nil && e.Digest == dg) || (isDigest != nil && e.Annotations[ocispec.AnnotationRefName] == ref) {
			return withRefName(e, ""), nil
		}
	}
	if isDigest == nil {
		return s.resolveBlob(dg)
	}
	return ocispec.Descriptor{}, fmt.Errorf("%w: tag %q in %s: %w", ErrNotFound, truncate(ref), s.dir, errdef.ErrNotFound)
}

func (s *Store) resolveBlob(dg digest.Digest) (ocispec.Descriptor, error) {
	if err := checkDigest(dg); err != nil {
		return ocispec.Descriptor{}, err
	}
	f, err := openRegular(s.blobPath(dg))
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%w: blob %s: %w", ErrNotFound, dg, errdef.ErrNotFound)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("ocilayout: %w", err)
	}
	d := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: dg, Size: fi.Size()}
	if fi.Size() <= maxManifestSize {
		var m struct {
			MediaType string `json:"mediaType"`
		}
		if json.NewDecoder(f).Decode(&m) == nil && isManifest(m.MediaType) {
			d.MediaType = m.MediaType
		}
	}
	return d, nil
}

// Tags calls fn once with the tags after last, in lexical order, as
// oras-go's stores and registry.TagLister do.
func (s *Store) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	idx, err := s.Index(ctx)
	if err != nil {
		return err
	}
	var tags []string
	for _, e := range idx.Manifests {
		if t, ok := e.Annotations[ocispec.AnnotationRefName]; ok && t > last {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	return fn(tags)
}
