package layout

import (
	"strings"
	"unicode/utf8"
)

// maxIdentifier is NAMEDATALEN-1: PostgreSQL truncates longer names.
const maxIdentifier = 63

func isScannerSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// splitIdentifiers splits a comma-separated list of names the way
// PostgreSQL's SplitIdentifierString does (src/backend/utils/adt/varlena.c):
// blanks around names are dropped, "double-quoted" names keep their case and
// may hold commas ("" is a quote), unquoted names are lowercased (ASCII), and
// names are truncated to 63 bytes. An empty string is an empty list; an
// empty name or a stray character is an error (ok false).
func splitIdentifiers(s string) (names []string, ok bool) {
	i := skipSpace(s, 0)
	if i == len(s) {
		return nil, true
	}
	for {
		var name string
		if s[i] == '"' {
			name, i, ok = quotedIdentifier(s, i)
			if !ok {
				return nil, false
			}
		} else {
			start := i
			for i < len(s) && s[i] != ',' && !isScannerSpace(s[i]) {
				i++
			}
			if i == start {
				return nil, false
			}
			name = asciiLower(s[start:i])
		}
		names = append(names, truncateIdentifier(name))
		i = skipSpace(s, i)
		if i == len(s) {
			return names, true
		}
		if s[i] != ',' {
			return nil, false
		}
		i = skipSpace(s, i+1)
		if i == len(s) {
			return nil, false // a trailing comma promises another name
		}
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && isScannerSpace(s[i]) {
		i++
	}
	return i
}

// quotedIdentifier reads a "quoted" name starting at s[i] == '"'.
func quotedIdentifier(s string, i int) (string, int, bool) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] != '"' {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == '"' {
			b.WriteByte('"')
			j++
			continue
		}
		if b.Len() == 0 {
			return "", 0, false // zero-length quoted name
		}
		return b.String(), j + 1, true
	}
	return "", 0, false // mismatched quotes
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// truncateIdentifier cuts a name to 63 bytes without splitting a UTF-8
// character, as truncate_identifier does with pg_mbcliplen. Invalid UTF-8
// (which the server would have refused earlier) is cut at 63 bytes.
func truncateIdentifier(s string) string {
	if len(s) <= maxIdentifier {
		return s
	}
	if !utf8.ValidString(s) {
		return s[:maxIdentifier]
	}
	n := maxIdentifier
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// serverEncodings maps cleaned encoding names (letters and digits only,
// lowercase, as clean_encoding_name makes them) to PostgreSQL's names, for
// the encodings valid on the server side (src/common/encnames.c).
var serverEncodings = map[string]string{
	"abc": "WIN1258", "alt": "WIN866", "euccn": "EUC_CN", "eucjis2004": "EUC_JIS_2004",
	"eucjp": "EUC_JP", "euckr": "EUC_KR", "euctw": "EUC_TW",
	"iso88591": "LATIN1", "iso885910": "LATIN6", "iso885913": "LATIN7", "iso885914": "LATIN8",
	"iso885915": "LATIN9", "iso885916": "LATIN10", "iso88592": "LATIN2", "iso88593": "LATIN3",
	"iso88594": "LATIN4", "iso88595": "ISO_8859_5", "iso88596": "ISO_8859_6",
	"iso88597": "ISO_8859_7", "iso88598": "ISO_8859_8", "iso88599": "LATIN5",
	"koi8": "KOI8R", "koi8r": "KOI8R", "koi8u": "KOI8U",
	"latin1": "LATIN1", "latin2": "LATIN2", "latin3": "LATIN3", "latin4": "LATIN4",
	"latin5": "LATIN5", "latin6": "LATIN6", "latin7": "LATIN7", "latin8": "LATIN8",
	"latin9": "LATIN9", "latin10": "LATIN10", "muleinternal": "MULE_INTERNAL",
	"sqlascii": "SQL_ASCII", "tcvn": "WIN1258", "tcvn5712": "WIN1258", "unicode": "UTF8",
	"utf8": "UTF8", "vscii": "WIN1258", "win": "WIN1251",
	"win1250": "WIN1250", "win1251": "WIN1251", "win1252": "WIN1252", "win1253": "WIN1253",
	"win1254": "WIN1254", "win1255": "WIN1255", "win1256": "WIN1256", "win1257": "WIN1257",
	"win1258": "WIN1258", "win866": "WIN866", "win874": "WIN874",
	"windows1250": "WIN1250", "windows1251": "WIN1251", "windows1252": "WIN1252",
	"windows1253": "WIN1253", "windows1254": "WIN1254", "windows1255": "WIN1255",
	"windows1256": "WIN1256", "windows1257": "WIN1257", "windows1258": "WIN1258",
	"windows866": "WIN866", "windows874": "WIN874",
}

func serverEncoding(name string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		}
	}
	enc, ok := serverEncodings[b.String()]
	return enc, ok
}
