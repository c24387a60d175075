package registry

import (
	"fmt"
	"strings"

	"oras.land/oras-go/v2/registry"
)

// ParseMirrorLocation splits "[scheme://]host[:port][/namespace]".
// plainHTTP is nil without a scheme, else whether it is "http://". The
// caller wraps the error with its own sentinel.
func ParseMirrorLocation(loc string) (host, namespace string, plainHTTP *bool, err error) {
	rest := loc
	if r, ok := strings.CutPrefix(rest, "http://"); ok {
		t := true
		rest, plainHTTP = r, &t
	} else if r, ok := strings.CutPrefix(rest, "https://"); ok {
		f := false
		rest, plainHTTP = r, &f
	}
	rest = strings.TrimSuffix(rest, "/")
	host, namespace, _ = strings.Cut(rest, "/")
	probe := host + "/" + strings.Trim(namespace+"/x", "/")
	if host == "" || strings.ContainsAny(rest, "@?#") || strings.Contains(rest, "://") {
		return "", "", nil, fmt.Errorf("location %q: want [http://]host[:port][/namespace]", truncate(loc))
	}
	if _, err := registry.ParseReference(probe); err != nil {
		return "", "", nil, fmt.Errorf("location %q: %v", truncate(loc), err)
	}
	return host, namespace, plainHTTP, nil
}

// MirrorsFor returns the mirrors configured for a registry host (hosts
// compare case-insensitively, as DNS names do).
func MirrorsFor[M any](all map[string][]M, host string) []M {
	if m, ok := all[host]; ok {
		return m
	}
	for h, m := range all {
		if strings.EqualFold(h, host) {
			return m
		}
	}
	return nil
}

// truncate keeps messages short when the input is long or hostile; it
// cuts as resolve's messages do.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
