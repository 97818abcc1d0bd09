package logging

import (
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

func TestFromEnv(t *testing.T) {
	e := config.FromMap(map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "text"})
	if l := FromEnv(e); l == nil || e.Err() != nil {
		t.Fatalf("valid settings: %v", e.Err())
	}
	e = config.FromMap(map[string]string{"LOG_LEVEL": "loud", "LOG_FORMAT": "xml"})
	FromEnv(e)
	err := e.Err()
	if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") || !strings.Contains(err.Error(), "LOG_FORMAT") {
		t.Fatalf("Err = %v, want both variables named", err)
	}
}
