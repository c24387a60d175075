package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// maxKeySize bounds a key or trusted root file.
const maxKeySize = 1 << 20

// PublicKey is a trusted public key and the name it is reported under
// (its file, for a loaded key).
type PublicKey struct {
	// Name names the key in results and errors: the file path for
	// [LoadPublicKey], the caller's choice for [ParsePublicKey].
	Name string
	// Key is an *ecdsa.PublicKey (P-256, P-384 or P-521), an
	// ed25519.PublicKey or an *rsa.PublicKey (2048 bits or more).
	Key crypto.PublicKey
}

// ID is the key's fingerprint: "sha256:" and the hex SHA-256 of its
// PKIX (DER) encoding.
func (k PublicKey) ID() string {
	der, err := x509.MarshalPKIXPublicKey(k.Key)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// hint is the sigstore bundle public key hint of key: the standard base64
// of the SHA-256 of its PKIX encoding, as sigstore-go writes it.
func hint(key crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// LoadPublicKey reads a PEM public key file ("PUBLIC KEY", PKIX: what
// `cosign generate-key-pair` writes as cosign.pub; or "RSA PUBLIC KEY",
// PKCS#1). The key's Name is path.
func LoadPublicKey(path string) (PublicKey, error) {
	b, err := readSmall(path, ErrKey)
	if err != nil {
		return PublicKey{}, err
	}
	return ParsePublicKey(path, b)
}

// ParsePublicKey parses a PEM public key (see [LoadPublicKey]) and names
// it name.
func ParsePublicKey(name string, pemBytes []byte) (PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return PublicKey{}, fmt.Errorf("%w: %s: no PEM block", ErrKey, name)
	}
	var (
		key crypto.PublicKey
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return PublicKey{}, fmt.Errorf("%w: %s: PEM block %q, want PUBLIC KEY", ErrKey, name, shorten(block.Type))
	}
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %s: %v", ErrKey, name, err)
	}
	if err := checkKey(key); err != nil {
		return PublicKey{}, fmt.Errorf("%w: %s: %v", ErrKey, name, err)
	}
	return PublicKey{Name: name, Key: key}, nil
}

// checkKey accepts the key types sigstore verifies.
func checkKey(key crypto.PublicKey) error {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("unsupported ECDSA curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits, want at least 2048", k.N.BitLen())
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", key)
}

// PEM block types of cosign's encrypted private keys: cosign v2 and later
// write the first, older versions the second.
const (
	pemEncryptedSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemEncryptedCosign   = "ENCRYPTED COSIGN PRIVATE KEY"
)

// LoadPrivateKey reads a private key file for [Sign]: a cosign key
// (`cosign generate-key-pair`'s cosign.key, PEM "ENCRYPTED SIGSTORE
// PRIVATE KEY" or "ENCRYPTED COSIGN PRIVATE KEY": PKCS#8 sealed with
// scrypt and NaCl secretbox), or a plain PEM "PRIVATE KEY" (PKCS#8),
// "EC PRIVATE KEY" or "RSA PRIVATE KEY". password is asked only for an
// encrypted key; nil means the empty password. The CLI passes a function
// returning $COSIGN_PASSWORD, else a prompt's answer on a terminal.
func LoadPrivateKey(path string, password func() ([]byte, error)) (crypto.Signer, error) {
	b, err := readSmall(path, ErrKey)
	if err != nil {
		return nil, err
	}
	s, err := ParsePrivateKey(b, password)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}

// ParsePrivateKey parses a PEM private key; see [LoadPrivateKey].
func ParsePrivateKey(pemBytes []byte, password func() ([]byte, error)) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrKey)
	}
	der := block.Bytes
	switch block.Type {
	case pemEncryptedSigstore, pemEncryptedCosign:
		var pass []byte
		if password != nil {
			p, err := password()
			if err != nil {
				return nil, fmt.Errorf("%w: password: %v", ErrKey, err)
			}
			pass = p
		}
		plain, err := encrypted.Decrypt(der, pass)
		if err != nil {
			return nil, fmt.Errorf("%w: decrypt %s: %v", ErrKey, block.Type, err)
		}
		der = plain
		fallthrough
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		return asSigner(k)
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		return asSigner(k)
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		return asSigner(k)
	}
	return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrKey, shorten(block.Type))
}

func asSigner(k any) (crypto.Signer, error) {
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: unsupported private key type %T", ErrKey, k)
	}
	if err := checkKey(s.Public()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return s, nil
}

// MarshalPublicKey encodes key as a PEM "PUBLIC KEY" block, the format
// of cosign.pub and of [LoadPublicKey].
func MarshalPublicKey(key crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// MarshalEncryptedPrivateKey encodes key as cosign does for cosign.key:
// PKCS#8, sealed with password (scrypt, NaCl secretbox), in a PEM
// "ENCRYPTED SIGSTORE PRIVATE KEY" block.
func MarshalEncryptedPrivateKey(key crypto.Signer, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	sealed, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedSigstore, Bytes: sealed}), nil
}

// TrustedRoot is a Sigstore trusted root: the Fulcio certificate
// authorities, Rekor transparency logs, certificate transparency logs and
// timestamp authorities keyless signatures are checked against. Its file
// is the JSON of `cosign trusted-root create` or the public-good
// instance's trusted_root.json; pgoci never fetches one.
type TrustedRoot struct {
	// Name names it in errors: the file path for [LoadTrustedRoot].
	Name string
	tr   *root.TrustedRoot
}

// LoadTrustedRoot reads a trusted root JSON file.
func LoadTrustedRoot(path string) (*TrustedRoot, error) {
	b, err := readSmall(path, ErrPolicy)
	if err != nil {
		return nil, err
	}
	return ParseTrustedRoot(path, b)
}

// ParseTrustedRoot decodes trusted root JSON and names it name.
func ParseTrustedRoot(name string, body []byte) (tr *TrustedRoot, err error) {
	defer func() {
		// A hostile file must not crash the caller.
		if r := recover(); r != nil {
			tr, err = nil, fmt.Errorf("%w: trusted root %s: %v", ErrPolicy, name, r)
		}
	}()
	t, err := root.NewTrustedRootFromJSON(body)
	if err != nil {
		return nil, fmt.Errorf("%w: trusted root %s: %v", ErrPolicy, name, err)
	}
	return &TrustedRoot{Name: name, tr: t}, nil
}

// hasLogs reports whether the root lists Rekor logs, which makes a
// transparency log entry required (unless Scope.IgnoreTlog).
func (t *TrustedRoot) hasLogs() bool { return t != nil && len(t.tr.RekorLogs()) > 0 }

// readSmall reads a key or trusted root file of at most maxKeySize
// bytes; errors wrap sentinel.
func readSmall(path string, sentinel error) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", sentinel, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", sentinel, path, err)
	}
	if len(b) > maxKeySize {
		return nil, fmt.Errorf("%w: %s is over %d bytes", sentinel, path, maxKeySize)
	}
	return b, nil
}
