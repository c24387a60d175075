// Package pgoci is a Go SDK for PostgreSQL extensions packaged and
// distributed as OCI images.
//
// Operators, CLIs and build pipelines use it to pack an extension into an
// image, push it to any OCI registry, pick the one image that matches a given
// PostgreSQL server (major version, architecture, libc, distro), verify it,
// and install or remove it on a live system without rebuilding the server
// image. It is also the reference implementation of the pgoci label spec
// (labels/SPEC.md).
//
// This root package holds no code; it documents the module.
//
// # The hard rule
//
// An extension must be built in the same environment as the server that
// loads it: same PostgreSQL major, same CPU architecture, same libc family and
// a libc no newer than the server's. pgoci checks compatibility before a byte
// is unpacked, and every rejection names the property that differed.
//
// # Packages
//
// Dependency direction points down; no package imports one above it.
//
//	examples/pgoci/        the pgoci CLI
//	examples/quickstart/   the README's main command
//	sqlstatus/             SQL-side status: a running server against the install records (the only user of pgx)
//	catalog/               extension repositories under a prefix, versions that fit, CloudNativePG ImageCatalog
//	extension/             lifecycle: pack, push, inspect, copy, unpack; Open -> Root: install, uninstall,
//	                       list, verify, repair, settings, plan, apply, sync, prune
//	trust/                 signatures and attestations (sigstore-go, only here), policies, signing;
//	                       trust/referrers finds referrers, trust/sbom writes the SPDX SBOM
//	resolve/               reference + version constraint + target -> one verified manifest; registry access, mirrors
//	unpack/                layer stream -> directory: verify, decompress, sanitise, apply
//	linkage/               ELF facts and the load check: what a module needs to load, library bundling
//	blobcache/             content-addressed blob cache: bounded, prunable, shared by processes
//	layout/                on-disk shapes: image root layout, control files, settings
//	labels/                the label/annotation schema: types, Parse, Validate, write
//	ocilayout/             OCI image layout store safe under concurrent writers
//	internal/host/         reads the machine (pg_config, os-release, C library, platform) for resolve.Detect
//	internal/registry/     resolve's registry transport: credentials, plain HTTP, retries, mirrors
//	internal/state/        extension's state directory: durable records, lock file of pins, flock, workspaces
//	internal/view/         the PostgreSQL 18 merged view's links
//	internal/pg17/         PostgreSQL 17 mode placement: destinations, control files last
//	internal/tmpname/      random suffixes for temporary names
//	internal/versions/     tags grouped by version, for extension.ListVersions and catalog
//	internal/depcheck/     the test that holds the dependency direction below
//	internal/verify/       the verifying reader every fetch goes through
//	internal/testregistry/ in-process OCI distribution registry for tests
//	internal/tartest/      tar layer builder for tests (hostile entries included)
//	internal/elftest/      small ELF objects for tests, built with the standard library
//	internal/demo/         the demo extension package for tests and the quickstart
//	e2e/                   end-to-end tests on real components (build tag e2e)
//
// labels imports nothing of pgoci; unpack and layout import neither each
// other nor resolve; resolve never imports extension; no internal package
// imports extension. internal/depcheck checks it from one table. The label schema is specified in labels/SPEC.md.
package pgoci
