package registry

import (
	"errors"
	"fmt"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Sentinel causes an *Error may wrap, so callers can tell a broken file
// (no PR should be opened) from other failures with errors.Is.
var (
	// ErrInvalidYAML: the file does not parse as YAML.
	ErrInvalidYAML = errors.New("invalid YAML")
	// ErrUnknownLayout: the file is neither a clusters map nor a ClaimRegistry.
	ErrUnknownLayout = errors.New("neither a clusters map nor a ClaimRegistry")
	// ErrAmbiguous: a claim matches more than one entry.
	ErrAmbiguous = errors.New("ambiguous entry")
	// ErrUnsupported: the file is valid YAML of a known layout, but the
	// edit would need a construct this package does not write (for
	// example a new key inside a flow-style mapping, or an anchored value).
	ErrUnsupported = errors.New("unsupported construct")
)

// Error is a problem with the registry file, tied to the 1-based line it
// was found on. Line is 0 when the YAML parser did not report one; the
// message then starts with "registry:" instead of "registry line N:".
type Error struct {
	Line int
	Msg  string
	Err  error // one of the sentinels above, or the parser's error
}

// Error formats as "registry line N: message".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("registry line %d: %s", e.Line, e.Msg)
	}
	return "registry: " + e.Msg
}

// Unwrap exposes the cause for errors.Is / errors.As.
func (e *Error) Unwrap() error { return e.Err }

func errAt(line int, cause error, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// sourceError turns a *yamlsrc.Error (a node whose extent could not be
// found) into an *Error wrapping ErrUnsupported; other errors pass.
func sourceError(err error) error {
	var se *yamlsrc.Error
	if errors.As(err, &se) {
		return errAt(se.Line, ErrUnsupported, "%s", se.Msg)
	}
	return err
}
