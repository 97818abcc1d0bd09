package yamlsrc

import "fmt"

// Error is a construct whose extent this package cannot determine (for
// example a flow collection whose closing bracket is not where YAML puts
// it), tied to the 1-based line the node starts on.
type Error struct {
	Line int
	Msg  string
}

// Error formats as "line N: message".
func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func errAtLine(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}
