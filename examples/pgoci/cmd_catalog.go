package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"pgoci/catalog"
	"pgoci/extension"
	"pgoci/labels"
	"pgoci/resolve"
)

func catalogCommand() command {
	return command{
		name:    "catalog",
		usage:   []string{"[flags] PREFIX", "publish [flags] PREFIX [REPO...]"},
		summary: "list the extension repositories under a registry prefix with the newest version that fits the target, or publish the catalog artifact",
		details: "PREFIX is host[:port]/path (or host[:port] for the whole registry). " +
			"The repositories come from the registry's /v2/_catalog, or, when the registry does not answer it, from the catalog artifact PREFIX/catalog:latest " +
			"that \"pgoci catalog publish\" writes (from REPO..., paths below PREFIX, or else from /v2/_catalog). " +
			"Without --json or --cnpg, one line per repository goes to stdout: repository, version, tag and manifest digest of its newest version " +
			"that fits the target (\"-\" when none does, with why on stderr). " +
			"--json prints every repository with its versions, those that do not fit too, each with why. " +
			"--cnpg prints a CloudNativePG ImageCatalog (YAML), one entry per --postgres-image MAJOR=IMAGE: " +
			"the PostgreSQL image of that major, and each repository's newest version for it and for --platform (required), " +
			"pinned by the digest of that platform's manifest, with its directories.",
		setup: setupCatalog,
	}
}

// catalogFlags are the flags of pgoci catalog.
type catalogFlags struct {
	tf                              targetFlags
	constraint                      string
	asJSON, cnpg, clusterWide       bool
	postgresImages                  multiFlag
	cnpgName, cnpgNamespace, from   string
	maxVersions, maxTagPages        int
	maxPages, maxRepos, maxTags     int
	listingOnly, publishOnly, given []string
}

func setupCatalog(fs *flag.FlagSet) action {
	var f catalogFlags
	f.tf.register(fs)
	fs.StringVar(&f.constraint, "version-constraint", "", "list only the versions that satisfy `CONSTRAINT` (1.4, >=1.2,<2, ~1.4, ^2); "+
		"one naming a pre-release admits pre-releases (default: every release)")
	fs.BoolVar(&f.asJSON, "json", false, "print every repository with its versions (those that do not fit too, with why) as JSON")
	fs.BoolVar(&f.cnpg, "cnpg", false, "print a CloudNativePG ImageCatalog (YAML) with one entry per --postgres-image")
	fs.Var(&f.postgresImages, "postgres-image", "with --cnpg: the PostgreSQL image `MAJOR=IMAGE` of one catalog entry, e.g. 18=ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie; "+
		"repeat for each major (the target flags other than --pg-major apply to all)")
	fs.StringVar(&f.cnpgName, "cnpg-name", catalog.DefaultCatalogName, "with --cnpg: the catalog's metadata.name `NAME`")
	fs.StringVar(&f.cnpgNamespace, "cnpg-namespace", "", "with --cnpg: the catalog's metadata.namespace `NS` (default: none, kubectl's)")
	fs.BoolVar(&f.clusterWide, "cluster-wide", false, "with --cnpg: render a ClusterImageCatalog instead of an ImageCatalog")
	fs.StringVar(&f.from, "from", "auto", "where the repositories come from: `SOURCE` auto (the registry's /v2/_catalog, else the catalog artifact), registry or artifact")
	fs.IntVar(&f.maxVersions, "max-versions", extension.DefaultMaxVersions, "resolve at most the `N` newest versions of each repository (2 requests each from the registry; -1: all)")
	fs.IntVar(&f.maxTagPages, "max-tag-pages", extension.DefaultMaxTagPages, "read at most `N` pages of 1000 tags per repository; a repository with more fails")
	fs.IntVar(&f.maxPages, "max-pages", catalog.DefaultMaxPages, "read at most `N` pages of 1000 names of the registry's /v2/_catalog")
	fs.IntVar(&f.maxRepos, "max-repositories", catalog.DefaultMaxRepositories, "list at most `N` repositories under PREFIX")
	fs.IntVar(&f.maxTags, "max-tags", catalog.DefaultMaxTags, "publish: record at most the `N` newest version tags of each repository")
	f.listingOnly = []string{"json", "cnpg", "postgres-image", "cnpg-name", "cnpg-namespace", "cluster-wide", "from", "max-versions",
		"version-constraint", "pg-major", "platform", "libc", "distro", "pg-config", "policy"}
	f.publishOnly = []string{"max-tags"}
	return func(ctx context.Context, e *env, args []string) error {
		fs.Visit(func(fl *flag.Flag) { f.given = append(f.given, fl.Name) })
		if len(args) > 0 && args[0] == "publish" {
			return f.publish(ctx, e, args[1:])
		}
		return f.list(ctx, e, args)
	}
}

// refuse is a usage error for the first flag of names that was given.
func (f *catalogFlags) refuse(names []string, what string) error {
	for _, n := range f.given {
		if slices.Contains(names, n) {
			return usagef("--%s does not apply to %s", n, what)
		}
	}
	return nil
}

func (f *catalogFlags) publish(ctx context.Context, e *env, args []string) error {
	if err := f.refuse(f.listingOnly, "catalog publish"); err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("want PREFIX [REPO...] after publish")
	}
	pub, err := catalog.Publish(ctx, args[0], catalog.PublishOptions{
		Remote: e.remoteOptions(), Repositories: args[1:], MaxTags: f.maxTags, MaxTagPages: f.maxTagPages,
		MaxPages: f.maxPages, MaxRepositories: f.maxRepos})
	if err != nil {
		return catalogUsage(err)
	}
	for _, s := range pub.Skipped {
		fmt.Fprintf(e.stderr, "pgoci catalog: note: left out %s\n", s)
	}
	fmt.Fprintf(e.stdout, "published %s (%s, %s, %s)\n", pub.Reference, catalogCount(pub.Repositories, "repository", "repositories"),
		catalogCount(pub.Tags, "tag", "tags"), catalogCount(pub.Manifests, "manifest", "manifests"))
	return nil
}

// catalogUsage makes a bad prefix a usage error.
func catalogUsage(err error) error {
	if errors.Is(err, catalog.ErrPrefix) {
		return usagef("%v", err)
	}
	return err
}

func (f *catalogFlags) list(ctx context.Context, e *env, args []string) error {
	if err := f.refuse(f.publishOnly, "a catalog listing (only to catalog publish)"); err != nil {
		return err
	}
	if err := wantArgs(args, "PREFIX"); err != nil {
		return err
	}
	from, err := catalog.ParseFrom(f.from)
	if err != nil {
		return usagef("--from: %v", err)
	}
	if f.asJSON && f.cnpg {
		return usagef("--json and --cnpg are exclusive")
	}
	images, err := f.images()
	if err != nil {
		return err
	}
	target, policy, err := f.tf.target(ctx)
	if err != nil {
		return err
	}
	opts := catalog.Options{Remote: e.remoteOptions(), From: from, MaxPages: f.maxPages, MaxRepositories: f.maxRepos,
		Versions: extension.ListVersionsOptions{Policy: policy, Constraint: f.constraint, MaxVersions: f.maxVersions,
			MaxTagPages: f.maxTagPages, Rejected: true}}
	if !f.asJSON {
		opts.Versions.MaxFitting = 1 // the newest is all a line or a catalog entry shows
	}
	if _, err := resolve.ParseConstraint(f.constraint); err != nil {
		return usagef("--version-constraint: %v", err)
	}
	c, err := catalog.Open(ctx, args[0], opts)
	if err != nil {
		return catalogUsage(err)
	}
	if c.From == catalog.FromArtifact {
		why := c.Fallback
		if why == "" {
			why = "--from artifact"
		}
		fmt.Fprintf(e.stderr, "pgoci catalog: note: listed from the catalog artifact %s/%s:%s@%s (%s)\n",
			c.Prefix, catalog.RepositoryName, catalog.Tag, c.Artifact.Digest, why)
	}
	if !f.cnpg {
		l, err := c.List(ctx, target)
		if err != nil {
			return err
		}
		if f.asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(l); err != nil {
				return err
			}
		} else {
			printListing(e, l)
		}
		return failedRepositories(l)
	}
	var listings []*catalog.Listing
	for _, major := range slices.Sorted(maps.Keys(images)) {
		t := target
		t.PG = labels.PG{Major: major}
		l, err := c.List(ctx, t)
		if err != nil {
			return err
		}
		for _, r := range l.Repositories {
			if r.Err != nil {
				fmt.Fprintf(e.stderr, "pgoci catalog: PostgreSQL %d: %s: %v\n", major, r.Name, oneLine(r.Err))
			}
		}
		listings = append(listings, l)
	}
	ic, notes, err := catalog.NewImageCatalog(listings, catalog.ImageCatalogOptions{Name: f.cnpgName, Namespace: f.cnpgNamespace,
		Cluster: f.clusterWide, PostgresImages: images})
	if err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintf(e.stderr, "pgoci catalog: note: %s\n", n)
	}
	y, err := ic.YAML()
	if err != nil {
		return err
	}
	if _, err := e.stdout.Write(y); err != nil {
		return err
	}
	for _, l := range listings {
		if err := failedRepositories(l); err != nil {
			return err
		}
	}
	return nil
}

// images parses --postgres-image, which --cnpg requires and nothing
// else takes.
func (f *catalogFlags) images() (map[int]string, error) {
	if !f.cnpg {
		if len(f.postgresImages) > 0 || slices.Contains(f.given, "cluster-wide") || slices.Contains(f.given, "cnpg-name") || slices.Contains(f.given, "cnpg-namespace") {
			return nil, usagef("--postgres-image, --cnpg-name, --cnpg-namespace and --cluster-wide go with --cnpg")
		}
		return nil, nil
	}
	if len(f.postgresImages) == 0 {
		return nil, usagef("--cnpg needs --postgres-image MAJOR=IMAGE, once per PostgreSQL major of the catalog")
	}
	if slices.Contains(f.given, "pg-major") {
		return nil, usagef("with --cnpg the majors are those of --postgres-image; drop --pg-major")
	}
	if !slices.Contains(f.given, "platform") {
		// The catalog pins one manifest per extension: the platform is
		// the cluster's nodes', not this machine's.
		return nil, usagef("--cnpg needs --platform os/arch[/variant] of the cluster's nodes, e.g. linux/amd64")
	}
	images := map[int]string{}
	for _, s := range f.postgresImages {
		m, image, ok := strings.Cut(s, "=")
		major, err := strconv.Atoi(m)
		if !ok || err != nil || major < 10 || image == "" {
			return nil, usagef("--postgres-image %q: want MAJOR=IMAGE, e.g. 18=ghcr.io/cloudnative-pg/postgresql:18.4-minimal-trixie", s)
		}
		if _, dup := images[major]; dup {
			return nil, usagef("--postgres-image: major %d given twice", major)
		}
		images[major] = image
	}
	return images, nil
}

// printListing writes one line per repository on stdout, and on stderr
// why a repository has no version that fits.
func printListing(e *env, l *catalog.Listing) {
	for _, r := range l.Repositories {
		if r.Err != nil {
			fmt.Fprintf(e.stdout, "%s\t-\t-\t-\n", r.Name)
			fmt.Fprintf(e.stderr, "pgoci catalog: %s: %v\n", r.Name, oneLine(r.Err))
			continue
		}
		if v, ok := r.Newest(); ok {
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", r.Name, v.Version, v.Tag, v.Manifest)
			continue
		}
		fmt.Fprintf(e.stdout, "%s\t-\t-\t-\n", r.Name)
		switch {
		case len(r.Versions) == 0:
			fmt.Fprintf(e.stderr, "pgoci catalog: note: %s: no tag names a version (or none satisfies the constraint)\n", r.Name)
		default:
			v := r.Versions[0]
			fmt.Fprintf(e.stderr, "pgoci catalog: note: %s: no version fits %s; newest %s (tag %s): %s\n", r.Name, l.Target, v.Version, v.Tag, v.Why)
		}
	}
}

// failedRepositories is the command's error when some repositories
// could not be listed (each already reported).
func failedRepositories(l *catalog.Listing) error {
	n := 0
	for _, r := range l.Repositories {
		if r.Err != nil {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%d of %d repositories could not be listed (see above)", n, len(l.Repositories))
	}
	return nil
}

// catalogCount writes n and the noun, singular for 1.
func catalogCount(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
