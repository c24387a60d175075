package registry

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Configure sets up repo, as remote.NewRepository made it, to be talked
// to: plain HTTP when asked or on loopback, tag paging, credentials,
// token and basic authentication with a cache, retries and the user
// agent.
func Configure(repo *remote.Repository, opts Options) error {
	loopback := isLoopback(repo.Reference.Registry)
	repo.PlainHTTP = opts.PlainHTTP || loopback
	repo.TagListPageSize = opts.TagPageSize
	repo.TagListMaxPages = opts.MaxTagPages
	if repo.TagListMaxPages == 0 {
		repo.TagListMaxPages = 100
	}
	cred := opts.Credential
	if cred == nil {
		store, err := dockerCredentials(opts.CredentialsFile)
		if err != nil {
			return err
		}
		cred = credentials.Credential(store)
	}
	client := &auth.Client{Client: opts.Client, Credential: cred, Cache: auth.NewCache()}
	if client.Client == nil {
		client.Client = retry.DefaultClient
	}
	if loopback {
		// A local test registry's token service is on loopback too.
		client.BlockedRealmPrefixes = withoutLoopback(auth.DefaultBlockedRealmPrefixes())
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "pgoci"
	}
	client.SetUserAgent(ua)
	repo.Client = client
	return nil
}

func dockerCredentials(file string) (credentials.Store, error) {
	var (
		store credentials.Store
		err   error
	)
	if file != "" {
		store, err = credentials.NewStore(file, credentials.StoreOptions{})
	} else {
		store, err = credentials.NewStoreFromDocker(credentials.StoreOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("resolve: read docker credentials: %w", err)
	}
	return store, nil
}

// isLoopback reports "localhost", 127.0.0.0/8 and ::1, with or without a
// port.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func withoutLoopback(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if !p.Addr().IsLoopback() {
			out = append(out, p)
		}
	}
	return out
}
