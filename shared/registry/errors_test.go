package registry

import (
	"errors"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// An extent the source layer cannot find is an unsupported construct at
// its line; other errors pass unchanged.
func TestSourceError(t *testing.T) {
	err := sourceError(&yamlsrc.Error{Line: 7, Msg: "cannot find the end"})
	var re *Error
	if !errors.As(err, &re) || !errors.Is(err, ErrUnsupported) || err.Error() != "registry line 7: cannot find the end" {
		t.Errorf("got %v", err)
	}
	other := errors.New("x")
	if sourceError(other) != other {
		t.Error("other error changed")
	}
}
