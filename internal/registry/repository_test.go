package registry

import (
	"testing"

	"oras.land/oras-go/v2/registry/remote"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:5000": true, "127.0.0.1": true, "127.1.2.3:443": true,
		"[::1]:5000": true, "::1": true, "ghcr.io": false, "10.0.0.1:5000": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestConfigurePlainHTTP(t *testing.T) {
	cred := func() Options { return Options{CredentialsFile: t.TempDir() + "/config.json"} }
	for ref, want := range map[string]bool{"localhost:5000/ext/a": true, "ghcr.io/ext/a": false} {
		repo, err := remote.NewRepository(ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := Configure(repo, cred()); err != nil {
			t.Fatal(err)
		}
		if repo.PlainHTTP != want || repo.TagListMaxPages != 100 {
			t.Errorf("%s: PlainHTTP %v, TagListMaxPages %d; want %v, 100", ref, repo.PlainHTTP, repo.TagListMaxPages, want)
		}
	}
}
