package trust

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePolicyDir writes a key pair's public key and a trusted root into a
// fresh directory and returns it.
func writePolicyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	b, err := MarshalPublicKey(keys(t)["ecdsa-p256"].Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme.pub"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	tr := newVirtualSigstore(t).trustedRoot(t, true)
	rb, err := tr.tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trusted_root.json"), rb, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadPolicy(t *testing.T) {
	dir := writePolicyDir(t)
	tests := []struct {
		name    string
		doc     string
		want    error  // nil: loads
		wantMsg string // in the error
	}{
		{name: "issue example", doc: `{"version": 1,
			"scopes": [{"registry": "registry.example.com/extensions",
			            "keys": ["acme.pub"],
			            "identities": [{"issuer": "https://token.actions.githubusercontent.com", "subjectRegExp": "^https://github.com/acme/"}],
			            "trustedRoot": "trusted_root.json",
			            "require": [{"predicateType": "https://slsa.dev/provenance/v1", "match": {"runDetails.builder.id": "^https://github.com/acme/"}}]}]}`},
		{name: "default scope and an exemption", doc: `{"version": 1, "default": {"keys": ["acme.pub"]}, "scopes": [{"registry": "localhost:5000"}]}`},
		{name: "absolute key path", doc: `{"version": 1, "default": {"keys": ["` + filepath.Join(dir, "acme.pub") + `"]}}`},
		{name: "unknown field", doc: `{"version": 1, "scopes": [{"registry": "r", "kyes": ["acme.pub"]}]}`, want: ErrPolicy, wantMsg: `"kyes"`},
		{name: "unknown top-level field", doc: `{"version": 1, "defaults": {}}`, want: ErrPolicy, wantMsg: `"defaults"`},
		{name: "version 2", doc: `{"version": 2}`, want: ErrPolicy, wantMsg: "version 2"},
		{name: "no version", doc: `{"scopes": []}`, want: ErrPolicy, wantMsg: "version is missing"},
		{name: "trailing data", doc: `{"version": 1} {}`, want: ErrPolicy},
		{name: "missing key file", doc: `{"version": 1, "default": {"keys": ["missing.pub"]}}`, want: ErrKey, wantMsg: "missing.pub"},
		{name: "key file that is no key", doc: `{"version": 1, "default": {"keys": ["trusted_root.json"]}}`, want: ErrKey},
		{name: "duplicate registry", doc: `{"version": 1, "scopes": [{"registry": "r.example.com"}, {"registry": "R.example.com/"}]}`, want: ErrPolicy, wantMsg: "twice"},
		{name: "empty registry", doc: `{"version": 1, "scopes": [{"keys": ["acme.pub"]}]}`, want: ErrPolicy, wantMsg: "registry is empty"},
		{name: "identities without trusted root", doc: `{"version": 1, "default": {"identities": [{"issuer": "i", "subject": "s"}]}}`, want: ErrPolicy, wantMsg: "trustedRoot"},
		{name: "identity with subject and subjectRegExp", doc: `{"version": 1, "default": {"trustedRoot": "trusted_root.json", "identities": [{"issuer": "i", "subject": "s", "subjectRegExp": "s"}]}}`, want: ErrPolicy},
		{name: "identity regexp that does not compile", doc: `{"version": 1, "default": {"trustedRoot": "trusted_root.json", "identities": [{"issuer": "i", "subjectRegExp": "("}]}}`, want: ErrPolicy},
		{name: "match regexp that does not compile", doc: `{"version": 1, "default": {"keys": ["acme.pub"], "require": [{"predicateType": "p", "match": {"a.b": "["}}]}}`, want: ErrPolicy, wantMsg: "a.b"},
		{name: "require without signer", doc: `{"version": 1, "default": {"require": [{"predicateType": "p"}]}}`, want: ErrPolicy, wantMsg: "require needs keys"},
		{name: "require without predicate type", doc: `{"version": 1, "default": {"keys": ["acme.pub"], "require": [{"match": {"a": "b"}}]}}`, want: ErrPolicy},
		{name: "bad trusted root", doc: `{"version": 1, "default": {"trustedRoot": "acme.pub", "identities": [{"issuer": "i", "subject": "s"}]}}`, want: ErrPolicy, wantMsg: "acme.pub"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "policy.json")
			if err := os.WriteFile(path, []byte(tc.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := LoadPolicy(path)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("LoadPolicy: %v", err)
				}
				if err := p.Validate(); err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), path) && !strings.Contains(err.Error(), "trust: ") {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v, want it to name %s", err, tc.wantMsg)
			}
		})
	}
	t.Run("relative paths resolve against the policy file", func(t *testing.T) {
		path := filepath.Join(dir, "policy.json")
		if err := os.WriteFile(path, []byte(`{"version": 1, "default": {"keys": ["acme.pub"], "trustedRoot": "trusted_root.json"}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Chdir(t.TempDir())
		p, err := LoadPolicy(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Default.Keys[0].Name; got != filepath.Join(dir, "acme.pub") {
			t.Errorf("key name = %q", got)
		}
		if p.Default.TrustedRoot == nil || !p.Default.TrustedRoot.hasLogs() {
			t.Errorf("trusted root not loaded")
		}
	})
}

func TestPolicyScope(t *testing.T) {
	key := pub(t, "k.pub", keys(t)["ecdsa-p256"])
	p := Policy{
		Scopes: []Scope{
			{Registry: "registry.example.com", Keys: []PublicKey{key}},
			{Registry: "registry.example.com/extensions", Keys: []PublicKey{key}},
			{Registry: "registry.example.com/extensions/contrib"},
			{Registry: "localhost:5000/"},
		},
		Default: &Scope{Keys: []PublicKey{key}},
	}
	tests := []struct {
		repository string
		want       string // the scope's registry; "default"; "none"
	}{
		{"registry.example.com/extensions/hstore", "registry.example.com/extensions"},
		{"registry.example.com/extensions", "registry.example.com/extensions"},
		{"registry.example.com/ext/hstore", "registry.example.com"},
		{"registry.example.com/extensionsx/hstore", "registry.example.com"},
		{"registry.example.com/extensions/contrib/pgvector", "registry.example.com/extensions/contrib"},
		{"REGISTRY.example.com/extensions/a", "registry.example.com/extensions"},
		{"registry.example.com.evil.example/extensions/a", "default"},
		{"localhost:5000/a", "localhost:5000/"},
		{"localhost:50000/a", "default"},
		{"", "default"},
	}
	for _, tc := range tests {
		t.Run(tc.repository, func(t *testing.T) {
			s := p.Scope(tc.repository)
			got := "none"
			switch {
			case s == p.Default:
				got = "default"
			case s != nil:
				got = s.Registry
			}
			if got != tc.want {
				t.Errorf("Scope(%q) = %s, want %s", tc.repository, got, tc.want)
			}
		})
	}
	if s := (Policy{Scopes: p.Scopes}).Scope("elsewhere.example.com/x"); s != nil {
		t.Errorf("no default: Scope = %+v, want nil", s)
	}
}

func TestPolicyWithKeys(t *testing.T) {
	a, b := pub(t, "a.pub", keys(t)["ecdsa-p256"]), pub(t, "b.pub", keys(t)["ed25519"])
	p := Policy{Scopes: []Scope{{Registry: "r.example.com", Keys: []PublicKey{a}}, {Registry: "r.example.com/free"}}}
	q := p.WithKeys(b)
	if n := len(q.Scopes[0].Keys); n != 2 {
		t.Errorf("scope keys = %d, want 2", n)
	}
	if n := len(q.Scopes[1].Keys); n != 0 {
		t.Errorf("exempt scope got %d keys", n)
	}
	if q.Default == nil || len(q.Default.Keys) != 1 || q.Default.Keys[0].Name != "b.pub" {
		t.Errorf("default = %+v", q.Default)
	}
	if len(p.Scopes[0].Keys) != 1 {
		t.Error("WithKeys changed its receiver")
	}
	if kp := KeysPolicy(a, b); len(kp.Default.Keys) != 2 || kp.Scope("any.example.com/x") != kp.Default {
		t.Errorf("KeysPolicy = %+v", kp)
	}
}
