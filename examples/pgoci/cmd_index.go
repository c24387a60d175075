package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"pgoci/extension"
	"pgoci/resolve"
)

func indexCommand() command {
	return command{
		name:  "index",
		usage: []string{"REF DIGEST..."},
		summary: "tag an image index listing the images DIGEST... that pack --no-index pushed to REF's repository, " +
			"replacing the index tagged REF's tag (default: the package version)",
		details: "This is how parallel build jobs publish one index without racing on its tag: each job runs " +
			"pgoci pack --no-index and passes on the digest it prints; one final job runs pgoci index with them all. " +
			"The images must be of one package version, with at most one per PostgreSQL major, platform, libc and distro.",
		setup: noFlags(runIndex),
	}
}

func runIndex(ctx context.Context, e *env, args []string) error {
	if len(args) < 2 {
		return usagef("want REF and at least one DIGEST, got %d argument(s)", len(args))
	}
	dst, ref, err := openTarget(e, args[0])
	if err != nil {
		return err
	}
	if ref.Digest != "" {
		return usagef("%s: want a tag, not a digest: the index gets a new digest", args[0])
	}
	images := make([]extension.Image, 0, len(args)-1)
	slots := map[string]string{}
	for _, d := range args[1:] {
		img, err := readImage(ctx, dst, d)
		if err != nil {
			return err
		}
		s := imageSlot(img)
		if other, dup := slots[s]; dup && other != d {
			return fmt.Errorf("%s and %s are both built for %s: an index holds one image per build", other, d, s)
		}
		slots[s] = d
		images = append(images, img)
	}
	tag := cmp.Or(ref.Tag, images[0].Metadata.Package.Version)
	idx, err := extension.PushIndex(ctx, dst, images, tag)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pushed %s:%s %s\n", ref.Name(), tag, idx.Digest)
	return nil
}

// imageSlot says what an image was built for, the way the index tells its
// entries apart: two images for one slot would leave the choice between
// them to chance.
func imageSlot(img extension.Image) string {
	m := img.Metadata
	s := fmt.Sprintf("PostgreSQL %d %s", m.PG.Major, resolve.PlatformString(*img.Manifest.Platform))
	if m.Libc.Family != "" {
		s += " " + m.Libc.Family
	}
	if d := strings.TrimSuffix(m.Distro.ID+"-"+m.Distro.Version, "-"); d != "" {
		s += " " + d
	}
	return s
}
