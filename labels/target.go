package labels

// Target is what an image says about the server it was built for: the
// properties a compatibility check compares. It is also how an operator
// describes a server from a PostgreSQL image's labels (CloudNativePG
// images carry io.cloudnativepg.image.base.* keys).
//
// The platform is not here: read it from the OCI platform field.
type Target struct {
	PGMajor        int
	PGVersionNum   int    // 0 when unknown
	LibcFamily     string // "" when unknown
	LibcVersion    string
	DistroID       string
	DistroVersion  string
	DistroCodename string
	BaseName       string // the image the server runs, when known
}

// Target returns the target description m carries. Only the PostgreSQL
// major is required; other fields are "" or 0 when unknown. Without a
// major it returns an *[Error] with an [ErrMissingKey] problem for
// KeyPGMajor.
func (m Metadata) Target() (Target, error) {
	if m.PG.Major == 0 {
		return Target{}, &Error{Problems: []Problem{{
			Key: KeyPGMajor, Reason: "a target needs the PostgreSQL major (or " + KeyCNPGBasePGMajor + ")", Err: ErrMissingKey,
		}}}
	}
	return Target{
		PGMajor:        m.PG.Major,
		PGVersionNum:   m.PG.VersionNum,
		LibcFamily:     m.Libc.Family,
		LibcVersion:    m.Libc.Version,
		DistroID:       m.Distro.ID,
		DistroVersion:  m.Distro.Version,
		DistroCodename: m.Distro.Codename,
		BaseName:       m.Base.Name,
	}, nil
}
