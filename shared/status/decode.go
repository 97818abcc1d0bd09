package status

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeBatch parses the body of POST /api/v1/statuses. It is a decoder for
// exactly this shape, several times faster than encoding/json on the ingest
// hot path, and its errors name the JSON path and byte offset (for example
// "items[3].generation: expected an integer at byte 812"). Unknown fields
// are skipped; null leaves a field empty; key names match exactly.
func DecodeBatch(data []byte) (Batch, error) {
	d := decoder{data: data}
	var b Batch
	err := d.document(func() error {
		return d.object(path{}, func(key string) error {
			switch key {
			case "cluster":
				return d.str(path{key: "cluster"}, &b.Cluster)
			case "items":
				if d.null() {
					b.Items = nil
					return nil
				}
				b.Items = make([]Record, 0, 64)
				return d.array(path{key: "items"}, func(i int) error {
					b.Items = append(b.Items, Record{})
					return d.record(path{array: "items", index: i}, &b.Items[len(b.Items)-1])
				})
			}
			return d.skip()
		})
	})
	return b, err
}

// DecodeRecord parses the body of POST /api/v1/status, like DecodeBatch.
func DecodeRecord(data []byte) (Record, error) {
	d := decoder{data: data}
	var r Record
	err := d.document(func() error { return d.record(path{}, &r) })
	return r, err
}

type decoder struct {
	data   []byte
	pos    int
	intern map[string]string // repeated short values: kinds, conditions, reasons
}

// document parses one value with value() and allows only whitespace after it.
func (d *decoder) document(value func() error) error {
	d.ws()
	if d.pos == len(d.data) {
		return &FieldError{"body", "empty; send a JSON object"}
	}
	if err := value(); err != nil {
		return err
	}
	d.ws()
	if d.pos != len(d.data) {
		return &FieldError{"body", fmt.Sprintf("unexpected data after the JSON object at byte %d", d.pos)}
	}
	return nil
}

func (d *decoder) record(at path, r *Record) error {
	return d.object(at, func(key string) error {
		f := at
		f.key = key
		switch key {
		case "cluster":
			return d.internStr(f, &r.Cluster)
		case "claimRef":
			return d.str(f, &r.ClaimRef)
		case "kind":
			return d.internStr(f, &r.Kind)
		case "uid":
			return d.str(f, &r.UID)
		case "statusMessage":
			return d.str(f, &r.StatusMessage)
		case "ready":
			return d.internStr(f, &r.Ready)
		case "reason":
			return d.internStr(f, &r.Reason)
		case "synced":
			return d.internStr(f, &r.Synced)
		case "generation":
			return d.int(f, &r.Generation)
		case "observedGeneration":
			return d.int(f, &r.ObservedGeneration)
		case "observedAt":
			return d.str(f, &r.ObservedAt)
		case "receivedAt":
			return d.str(f, &r.ReceivedAt)
		case "deleted":
			return d.bool(f, &r.Deleted)
		case "lastTransitionTime":
			return d.str(f, &r.LastTransitionTime)
		}
		return d.skip()
	})
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) errAt(at path, want string) error {
	name := at.String()
	if name == "" {
		name = "body"
	}
	if d.pos >= len(d.data) {
		return &FieldError{name, fmt.Sprintf("expected %s, got end of input (truncated JSON)", want)}
	}
	return &FieldError{name, fmt.Sprintf("expected %s at byte %d", want, d.pos)}
}

// object parses {"key": value, ...}, calling field for each key with the
// position on the value.
func (d *decoder) object(p path, field func(key string) error) error {
	d.ws()
	return d.list(p, '{', '}', "a JSON object", func(int) error {
		var key string
		if err := d.str(p, &key); err != nil {
			return err
		}
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.errAt(p, "':' after a key")
		}
		d.pos++
		d.ws()
		return field(key)
	})
}

// array parses [value, ...], calling elem with each index; null is empty.
func (d *decoder) array(p path, elem func(i int) error) error {
	if d.null() {
		return nil
	}
	return d.list(p, '[', ']', "a JSON array", elem)
}

// list parses open, elements separated by commas, close: the frame that
// objects and arrays share. elem parses element i from its first byte.
func (d *decoder) list(p path, open, close byte, what string, elem func(i int) error) error {
	if d.pos >= len(d.data) || d.data[d.pos] != open {
		return d.errAt(p, what)
	}
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == close {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		d.ws()
		if err := elem(i); err != nil {
			return err
		}
		d.ws()
		if d.pos < len(d.data) {
			switch d.data[d.pos] {
			case ',':
				d.pos++
				continue
			case close:
				d.pos++
				return nil
			}
		}
		return d.errAt(p, fmt.Sprintf("',' or '%c'", close))
	}
}

func (d *decoder) null() bool {
	if len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

// str parses a JSON string into *dst; null leaves it unchanged.
func (d *decoder) str(path path, dst *string) error { return d.strOpt(path, dst, false) }

// internStr is str for fields whose values repeat across the items of a
// batch (kind, conditions, reason): each distinct value is allocated once
// per request instead of once per item.
func (d *decoder) internStr(path path, dst *string) error { return d.strOpt(path, dst, true) }

func (d *decoder) strOpt(path path, dst *string, intern bool) error {
	if d.null() {
		return nil
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return d.errAt(path, "a string")
	}
	start := d.pos + 1
	// Fast path: no escapes, all ASCII or valid UTF-8.
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			s := d.data[start:i]
			if !utf8.Valid(s) {
				return &FieldError{path.String(), fmt.Sprintf("invalid UTF-8 in string at byte %d", start)}
			}
			d.pos = i + 1
			if !intern || len(s) > 64 {
				*dst = string(s)
				return nil
			}
			if v, ok := d.intern[string(s)]; ok { // no allocation for the lookup
				*dst = v
				return nil
			}
			*dst = string(s)
			if d.intern == nil {
				d.intern = make(map[string]string, 16)
			}
			if len(d.intern) < 256 {
				d.intern[*dst] = *dst
			}
			return nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	return d.slowString(path, start, dst)
}

func (d *decoder) slowString(path path, start int, dst *string) error {
	buf := make([]byte, 0, 64)
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return &FieldError{path.String(), fmt.Sprintf("invalid UTF-8 in string at byte %d", start)}
			}
			*dst = string(buf)
			d.pos = i + 1
			return nil
		case c < 0x20:
			return &FieldError{path.String(), fmt.Sprintf("control character in string at byte %d", i)}
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(d.data) {
			break
		}
		esc := d.data[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.data, i)
			if !ok {
				return &FieldError{path.String(), fmt.Sprintf("invalid \\u escape at byte %d", i-2)}
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+6 <= len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
					r2, ok = hex4(d.data, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return &FieldError{path.String(), fmt.Sprintf("invalid escape \\%c at byte %d", esc, i-2)}
		}
	}
	d.pos = len(d.data)
	return d.errAt(path, "the end of the string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[i:i+4]), 16, 32)
	return rune(n), err == nil
}

// int parses a JSON integer into *dst; null leaves it unchanged.
func (d *decoder) int(path path, dst *int64) error {
	if d.null() {
		return nil
	}
	start := d.pos
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	if d.pos == digits || (d.pos < len(d.data) && (d.data[d.pos] == '.' || d.data[d.pos] == 'e' || d.data[d.pos] == 'E')) ||
		(d.data[digits] == '0' && d.pos-digits > 1) {
		d.pos = start
		return d.errAt(path, "an integer")
	}
	n, err := strconv.ParseInt(string(d.data[start:d.pos]), 10, 64)
	if err != nil {
		d.pos = start
		return &FieldError{path.String(), fmt.Sprintf("integer out of range at byte %d", start)}
	}
	*dst = n
	return nil
}

// bool parses true or false into *dst; null leaves it unchanged.
func (d *decoder) bool(path path, dst *bool) error {
	switch {
	case d.null():
	case len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "true":
		*dst = true
		d.pos += 4
	case len(d.data)-d.pos >= 5 && string(d.data[d.pos:d.pos+5]) == "false":
		*dst = false
		d.pos += 5
	default:
		return d.errAt(path, "true or false")
	}
	return nil
}

// skip passes over any JSON value, checking its syntax.
func (d *decoder) skip() error {
	return d.skipDepth(0)
}

func (d *decoder) skipDepth(depth int) error {
	if depth > 64 {
		return &FieldError{"body", fmt.Sprintf("nested deeper than 64 levels at byte %d", d.pos)}
	}
	d.ws()
	if d.pos >= len(d.data) {
		return d.errAt(path{}, "a value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(path{}, func(string) error { return d.skipDepth(depth + 1) })
	case c == '[':
		return d.array(path{}, func(int) error { return d.skipDepth(depth + 1) })
	case c == '"':
		var s string
		return d.str(path{}, &s)
	case c == 't' || c == 'f':
		var b bool
		return d.bool(path{}, &b)
	case c == 'n':
		if d.null() {
			return nil
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return d.errAt(path{}, "a value")
}

// number passes over a JSON number of any form.
func (d *decoder) number() error {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	digits := func() int {
		s := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		return d.pos - s
	}
	if n := digits(); n == 0 || (n > 1 && d.data[d.pos-n] == '0') {
		d.pos = start
		return d.errAt(path{}, "a number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return d.errAt(path{}, "digits after '.'")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return d.errAt(path{}, "an exponent")
		}
	}
	return nil
}

// path names a JSON location for error messages. It becomes a string only
// when an error needs it: building "items[3].claimRef" for every field of
// every item was a tenth of the ingest's CPU.
type path struct {
	array string // the array holding the object, e.g. "items"; "" at top level
	index int    // the element's index in array
	key   string // the field, "" for the object itself
}

func (p path) String() string {
	if p.array == "" {
		return p.key
	}
	s := p.array + "[" + strconv.Itoa(p.index) + "]"
	if p.key != "" {
		s += "." + p.key
	}
	return s
}
