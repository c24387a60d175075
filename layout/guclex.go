package layout

// A lexer and line parser for PostgreSQL's configuration-file syntax, which is
// what control files use (extension.c parses them with ParseConfigFp). The
// token rules are those of src/backend/utils/misc/guc-file.l:
//
//	LETTER          [A-Za-z_\200-\377]
//	LETTER_OR_DIGIT [A-Za-z_0-9\200-\377]
//	ID              {LETTER}{LETTER_OR_DIGIT}*
//	QUALIFIED_ID    {ID}"."{ID}
//	UNQUOTED_STRING {LETTER}({LETTER_OR_DIGIT}|[-._:/])*
//	STRING          \'([^'\\\n]|\\.|\'\')*\'
//	INTEGER         {SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*
//	REAL            {SIGN}?{DIGIT}*"."{DIGIT}*{EXPONENT}?
//
// with flex semantics: the longest match wins, ties go to the earlier rule,
// and any other character is an error token. Blanks are [ \t\r], "#" starts
// a comment that runs to the end of the line. A line is
// `name [=] value [# comment]`, and the value must be the last token.

type tokKind int

const (
	tokID tokKind = iota + 1
	tokQualifiedID
	tokString
	tokUnquoted
	tokInteger
	tokReal
	tokEquals
	tokError
)

type token struct {
	kind tokKind
	text string
}

func isLetter(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetterOrDigit(c byte) bool { return isLetter(c) || isDigit(c) }

func isHexDigit(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isUnitLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// lexLine splits one line (without its newline) into tokens.
func lexLine(b []byte) []token {
	var toks []token
	i := 0
	for i < len(b) {
		c := b[i]
		if c == ' ' || c == '\t' || c == '\r' {
			i++
			continue
		}
		if c == '#' {
			break
		}
		kind, n := longestMatch(b[i:])
		toks = append(toks, token{kind: kind, text: string(b[i : i+n])})
		i += n
	}
	return toks
}

// longestMatch returns the token at the start of b (never empty).
func longestMatch(b []byte) (tokKind, int) {
	best, bestLen := tokError, 1
	try := func(k tokKind, n int) {
		if n > bestLen || n == bestLen && best == tokError && n > 0 {
			best, bestLen = k, n
		}
	}
	// Rules in flex order; a later rule wins only with a strictly longer match.
	try(tokID, matchID(b))
	try(tokQualifiedID, matchQualifiedID(b))
	try(tokString, matchString(b))
	try(tokUnquoted, matchUnquoted(b))
	try(tokInteger, matchInteger(b))
	try(tokReal, matchReal(b))
	if b[0] == '=' {
		try(tokEquals, 1)
	}
	return best, bestLen
}

func matchID(b []byte) int {
	if len(b) == 0 || !isLetter(b[0]) {
		return 0
	}
	n := 1
	for n < len(b) && isLetterOrDigit(b[n]) {
		n++
	}
	return n
}

func matchQualifiedID(b []byte) int {
	n := matchID(b)
	if n == 0 || n >= len(b) || b[n] != '.' {
		return 0
	}
	m := matchID(b[n+1:])
	if m == 0 {
		return 0
	}
	return n + 1 + m
}

func matchUnquoted(b []byte) int {
	if len(b) == 0 || !isLetter(b[0]) {
		return 0
	}
	n := 1
	for n < len(b) {
		c := b[n]
		if !isLetterOrDigit(c) && c != '-' && c != '.' && c != '_' && c != ':' && c != '/' {
			break
		}
		n++
	}
	return n
}

// matchString returns the length of the longest quoted string at the start
// of b, 0 if there is none (an unterminated string).
func matchString(b []byte) int {
	if len(b) == 0 || b[0] != '\'' {
		return 0
	}
	last := 0
	for j := 1; j < len(b); {
		switch b[j] {
		case '\'':
			last = j + 1
			if j+1 < len(b) && b[j+1] == '\'' {
				j += 2
				continue
			}
			return last
		case '\\':
			if j+1 >= len(b) || b[j+1] == '\n' {
				return last
			}
			j += 2
		case '\n':
			return last
		default:
			j++
		}
	}
	return last
}

func matchSign(b []byte) int {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		return 1
	}
	return 0
}

func matchInteger(b []byte) int {
	s := matchSign(b)
	d := 0
	for s+d < len(b) && isDigit(b[s+d]) {
		d++
	}
	if s+1 < len(b) && b[s] == '0' && (b[s+1] == 'x') {
		h := 0
		for s+2+h < len(b) && isHexDigit(b[s+2+h]) {
			h++
		}
		if h > 0 && 2+h > d {
			d = 2 + h
		}
	}
	if d == 0 {
		return 0
	}
	n := s + d
	for n < len(b) && isUnitLetter(b[n]) {
		n++
	}
	return n
}

func matchReal(b []byte) int {
	n := matchSign(b)
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	if n >= len(b) || b[n] != '.' {
		return 0
	}
	n++
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	if n < len(b) && (b[n] == 'e' || b[n] == 'E') {
		e := n + 1
		e += matchSign(b[e:])
		k := 0
		for e+k < len(b) && isDigit(b[e+k]) {
			k++
		}
		if k > 0 {
			n = e + k
		}
	}
	return n
}

// deescape turns a STRING token into its value the way guc-file.l's
// DeescapeQuotedString does: the outer quotes go, ” becomes ', and a
// backslash introduces \b \f \n \r \t, up to three octal digits, or any other
// character taken literally. Like the C code, a NUL produced by an octal
// escape ends the value.
func deescape(s string) string {
	s = s[1 : len(s)-1]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			c, i = unescape(s, i)
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		}
		if c == 0 {
			break
		}
		out = append(out, c)
	}
	return string(out)
}

// unescape decodes the escape whose first character is s[i]; it returns the
// byte and the index of the escape's last character.
func unescape(s string, i int) (byte, int) {
	switch s[i] {
	case 'b':
		return '\b', i
	case 'f':
		return '\f', i
	case 'n':
		return '\n', i
	case 'r':
		return '\r', i
	case 't':
		return '\t', i
	}
	if s[i] < '0' || s[i] > '7' {
		return s[i], i
	}
	v, k := 0, 0
	for k < 3 && i+k < len(s) && s[i+k] >= '0' && s[i+k] <= '7' {
		v = v<<3 + int(s[i+k]-'0')
		k++
	}
	return byte(v), i + k - 1
}
