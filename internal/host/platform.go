package host

import (
	"runtime"
	"runtime/debug"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Platform is the platform of the running process, with the variant
// spelled the way OCI indexes spell it (arm64 -> v8, arm -> v5..v7).
func Platform() ocispec.Platform {
	p := ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	switch runtime.GOARCH {
	case "arm64":
		p.Variant = "v8"
	case "arm":
		p.Variant = goarmVariant()
	}
	return p
}

// goarmVariant reads the GOARM the binary was built for ("7" or "7,softfloat").
func goarmVariant() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" {
				v, _, _ := strings.Cut(s.Value, ",")
				return "v" + v
			}
		}
	}
	return "v7"
}
