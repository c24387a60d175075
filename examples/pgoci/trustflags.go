package main

import (
	"flag"
	"fmt"
	"os"

	"golang.org/x/term"

	"pgoci/resolve"
	"pgoci/trust"
)

// trustFlags select the signatures and attestations an image must carry.
type trustFlags struct {
	keys   multiFlag
	policy string
}

func (f *trustFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.keys, "verify-key", "require a signature by the public key in `FILE` (PEM: ECDSA, Ed25519 or RSA; cosign.pub), on the index or the chosen manifest; repeatable, any one suffices")
	fs.StringVar(&f.policy, "trust-policy", "", "require what the trust policy `FILE` says for the image's registry (JSON; see the README's Trust section)")
}

// policy builds the policy the flags describe; ok is false when they
// require nothing.
func (f *trustFlags) trustPolicy() (trust.Policy, bool, error) {
	if f.policy == "" && len(f.keys) == 0 {
		return trust.Policy{}, false, nil
	}
	var keys []trust.PublicKey
	for _, path := range f.keys {
		k, err := trust.LoadPublicKey(path)
		if err != nil {
			return trust.Policy{}, false, err
		}
		keys = append(keys, k)
	}
	if f.policy == "" {
		return trust.KeysPolicy(keys...), true, nil
	}
	p, err := trust.LoadPolicy(f.policy)
	if err != nil {
		return trust.Policy{}, false, err
	}
	return p.WithKeys(keys...), true, nil
}

// verifier is the resolve.Verifier the flags describe, nil when they
// require nothing.
func (f *trustFlags) verifier() (resolve.Verifier, error) {
	p, ok, err := f.trustPolicy()
	if err != nil || !ok {
		return nil, err
	}
	return trust.NewVerifier(p, trust.Options{})
}

// cosignPassword is the password of an encrypted signing key:
// $COSIGN_PASSWORD when set (as cosign reads it), else typed at a
// terminal prompt.
func cosignPassword(e *env) func() ([]byte, error) {
	return func() ([]byte, error) {
		if pw, ok := os.LookupEnv("COSIGN_PASSWORD"); ok {
			return []byte(pw), nil
		}
		tty, err := os.Open("/dev/tty")
		if err != nil || !term.IsTerminal(int(tty.Fd())) {
			return nil, fmt.Errorf("the key is encrypted: set COSIGN_PASSWORD (no terminal to ask on)")
		}
		defer tty.Close()
		fmt.Fprint(e.stderr, "Enter password for private key: ")
		pw, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(e.stderr)
		return pw, err
	}
}
