package status

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r encoded exactly as encoding/json would encode it
// (same field order, omitempty, and string escaping), without reflection:
// every stored record is encoded on the ingest hot path.
func (r *Record) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"cluster":`...)
	dst = appendString(dst, r.Cluster)
	dst = append(dst, `,"claimRef":`...)
	dst = appendString(dst, r.ClaimRef)
	dst = appendOpt(dst, `,"kind":`, r.Kind)
	dst = appendOpt(dst, `,"uid":`, r.UID)
	dst = append(dst, `,"statusMessage":`...)
	dst = appendString(dst, r.StatusMessage)
	dst = appendOpt(dst, `,"ready":`, r.Ready)
	dst = appendOpt(dst, `,"reason":`, r.Reason)
	dst = appendOpt(dst, `,"synced":`, r.Synced)
	if r.Generation != 0 {
		dst = append(dst, `,"generation":`...)
		dst = strconv.AppendInt(dst, r.Generation, 10)
	}
	if r.ObservedGeneration != 0 {
		dst = append(dst, `,"observedGeneration":`...)
		dst = strconv.AppendInt(dst, r.ObservedGeneration, 10)
	}
	dst = appendOpt(dst, `,"observedAt":`, r.ObservedAt)
	dst = appendOpt(dst, `,"receivedAt":`, r.ReceivedAt)
	if r.Deleted {
		dst = append(dst, `,"deleted":true`...)
	}
	dst = appendOpt(dst, `,"lastTransitionTime":`, r.LastTransitionTime)
	return append(dst, '}')
}

func appendOpt(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return appendString(append(dst, key...), v)
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping on:
// control characters, <, > and &, U+2028 and U+2029 are escaped, and
// invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
