// Package extension is the lifecycle SDK for PostgreSQL extensions shipped
// as OCI images: it packs an installed extension tree into images and
// pushes them to any OCI registry or image layout directory.
//
// # How do I use this package?
//
// Build the extension as usual, install it into a staging directory
// (`make install DESTDIR=/tmp/stage`), then pack that tree once per
// platform and PostgreSQL major and group the images in one index:
//
//	store, _ := oci.New("/tmp/oci")            // or remote.NewRepository("ghcr.io/acme/postgis")
//	img, err := extension.Pack(ctx, store, "/tmp/stage", extension.Build{
//		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
//		Metadata: labels.Metadata{PG: labels.PG{Major: 18}, Libc: labels.Libc{Family: "glibc", Version: "2.36"}},
//	}, extension.PackOptions{})
//	idx, err := extension.PushIndex(ctx, store, []extension.Image{img /*, the arm64 one ... */}, "3.5.2")
//
// [Pack] reads the tree with [layout.Discover] (a DESTDIR tree or an image
// root layout), maps it onto the CloudNativePG-compatible image root
// (share/extension, lib, system, licenses), rewrites '$libdir/' module
// references so the image works under dynamic_library_path, and derives the
// labels (extensions, default versions, requires, preload hints) from the
// control files. What the tree cannot say (platform, libc, distro, exact
// PostgreSQL version, base image, compiler) comes from [Build], or from this
// machine with [PackOptions.DetectHost]. The labels are validated with
// [labels.Metadata.Validate] before anything is written.
//
// # Reproducible images
//
// A layer is a tar with entries sorted by path, every mtime set to
// SOURCE_DATE_EPOCH (or the Unix epoch, or [PackOptions.ModTime]), uid and
// gid 0 with no user or group names, and permissions normalised to 0755 or
// 0644. Compression uses fixed settings (zstd by default, gzip on request),
// so packing the same tree twice gives the same digests, and [PushIndex]
// orders its entries by PostgreSQL major, platform and digest whatever
// order the images came in.
//
// # Where labels go
//
// Every label is written to the manifest annotations and to the config's
// labels; the index entry of each manifest carries its platform and the
// selection subset ([labels.Metadata.SelectionAnnotations]) so that a
// resolver picks a manifest from the index alone. See labels/SPEC.md.
//
// # Streaming
//
// The layer streams tar -> diff ID hash -> compressor -> blob hash into a
// temporary file (never into memory), because a registry push needs the
// digest and size before the first byte. The file is removed when the
// push ends, whether it succeeded or not.
package extension
