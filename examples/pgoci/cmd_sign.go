package main

import (
	"context"
	"flag"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"pgoci/trust"
)

func signCommand() command {
	return command{
		name:    "sign",
		usage:   []string{"[flags] REF --key FILE"},
		summary: "sign the index or manifest REF names as cosign v3 does (a sigstore bundle referrer that cosign verify --key accepts)",
		details: "The key is a cosign key pair's private half (cosign generate-key-pair), or a PKCS#8, SEC1 or PKCS#1 PEM key. " +
			"An encrypted key's password comes from $COSIGN_PASSWORD, else from a prompt on the terminal. " +
			"Signing is offline: no transparency log entry is made, so verify with cosign verify --key --insecure-ignore-tlog=true, " +
			"or pgoci install|resolve --verify-key. The digest of each signature pushed is printed.",
		setup: setupSign,
	}
}

func setupSign(fs *flag.FlagSet) action {
	key := fs.String("key", "", "the private key `FILE` to sign with (required)")
	manifests := fs.Bool("manifests", false, "also sign every image manifest the index lists, each with its own signature")
	return func(ctx context.Context, e *env, args []string) error {
		if err := wantArgs(args, "REF"); err != nil {
			return err
		}
		if *key == "" {
			return usagef("--key FILE is required")
		}
		signer, err := trust.LoadPrivateKey(*key, cosignPassword(e))
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		dst, ref, err := openTarget(e, args[0])
		if err != nil {
			return err
		}
		object := ref.Digest.String()
		if object == "" {
			object = ref.Tag
		}
		desc, err := dst.Resolve(ctx, object)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", args[0], err)
		}
		sigs, err := trust.Sign(ctx, dst, ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, signer,
			trust.SignOptions{Manifests: *manifests})
		if err != nil {
			return err
		}
		// The first signature is of desc, the others of its manifests.
		fmt.Fprintf(e.stdout, "signed %s@%s: signature %s\n", ref.Name(), desc.Digest, sigs[0].Digest)
		for _, s := range sigs[1:] {
			fmt.Fprintf(e.stdout, "signed a manifest of it: signature %s\n", s.Digest)
		}
		return nil
	}
}
