//go:build e2e

package e2e

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"pgoci/resolve"
)

// installByHand is a stand-in for the installer (extension.Install, not
// written yet), to be replaced by it: it pulls the host platform's manifest
// of repo:tag, unpacks its zstd layers into <root>/packages/<name>/ and
// links every file of the package's share/extension and lib into the
// merged view <root>/share/extension and <root>/lib, which the server's
// extension_control_path and dynamic_library_path name.
func installByHand(t *testing.T, repo *remote.Repository, tag, name, root string) {
	t.Helper()
	ctx := context.Background()
	manifest, err := fetchHostManifest(ctx, repo, tag)
	if err != nil {
		t.Fatalf("%s:%s: %v", repo.Reference.Repository, tag, err)
	}
	pkg := filepath.Join(root, "packages", name)
	for _, layer := range manifest.Layers {
		if err := unpackLayer(ctx, repo, layer, pkg); err != nil {
			t.Fatalf("layer %s: %v", layer.Digest, err)
		}
	}
	for _, dir := range []string{filepath.Join("share", "extension"), "lib"} {
		if err := linkView(root, filepath.Join("packages", name), dir); err != nil {
			t.Fatal(err)
		}
	}
}

// fetchHostManifest resolves tag and, for an index, picks the entry of the
// host's OS and architecture.
func fetchHostManifest(ctx context.Context, repo *remote.Repository, tag string) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	desc, err := repo.Resolve(ctx, tag)
	if err != nil {
		return m, err
	}
	if desc.MediaType == ocispec.MediaTypeImageIndex {
		var idx ocispec.Index
		if err := fetchJSON(ctx, repo, desc, &idx); err != nil {
			return m, err
		}
		host, found := resolve.HostPlatform(), false
		for _, e := range idx.Manifests {
			if e.Platform != nil && e.Platform.OS == host.OS && e.Platform.Architecture == host.Architecture {
				desc, found = e, true
				break
			}
		}
		if !found {
			return m, fmt.Errorf("index %s has no manifest for %s/%s", desc.Digest, host.OS, host.Architecture)
		}
	}
	return m, fetchJSON(ctx, repo, desc, &m)
}

func fetchJSON(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, v any) error {
	body, err := content.FetchAll(ctx, repo, desc) // verified against desc
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

// unpackLayer streams one zstd tar layer into dir, verifying its digest.
func unpackLayer(ctx context.Context, repo *remote.Repository, layer ocispec.Descriptor, dir string) error {
	if layer.MediaType != ocispec.MediaTypeImageLayerZstd {
		return fmt.Errorf("media type %s: the stand-in installer reads zstd layers only", layer.MediaType)
	}
	rc, err := repo.Fetch(ctx, layer)
	if err != nil {
		return err
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, layer)
	zr, err := zstd.NewReader(vr)
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := untar(tar.NewReader(zr), dir); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, vr); err != nil { // the tar end may precede the blob end
		return err
	}
	return vr.Verify()
}

func untar(tr *tar.Reader, dir string) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !filepath.IsLocal(h.Name) {
			return fmt.Errorf("entry %q leaves the package directory", h.Name)
		}
		path := filepath.Join(dir, h.Name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, path)
		case tar.TypeReg:
			err = writeFile(path, tr, h.FileInfo().Mode().Perm())
		default:
			err = fmt.Errorf("entry %q: tar type %q not handled", h.Name, h.Typeflag)
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(path string, r io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// linkView links each entry of <root>/<pkg>/<dir> into <root>/<dir> with a
// relative symbolic link; a name already taken is a conflict.
func linkView(root, pkg, dir string) error {
	entries, err := os.ReadDir(filepath.Join(root, pkg, dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	view := filepath.Join(root, dir)
	if err := os.MkdirAll(view, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		target, err := filepath.Rel(view, filepath.Join(root, pkg, dir, e.Name()))
		if err != nil {
			return err
		}
		if err := os.Symlink(target, filepath.Join(view, e.Name())); err != nil {
			return fmt.Errorf("merged view: %w", err)
		}
	}
	return nil
}
