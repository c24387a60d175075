package registry

// ValidTag reports whether s is a tag by the distribution spec's grammar,
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. It is a loop, not a regular
// expression: the counted repetition compiles to a program of some 400
// instructions, which every process paid for at start.
func ValidTag(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
