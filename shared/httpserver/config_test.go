package httpserver

import (
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Config
		err  string
	}{
		{"defaults", nil, Defaults(), ""},
		{"overrides", map[string]string{
			"HTTP_READ_HEADER_TIMEOUT": "1s", "HTTP_READ_TIMEOUT": "2s", "HTTP_WRITE_TIMEOUT": "3s",
			"HTTP_IDLE_TIMEOUT": "4s", "HTTP_MAX_HEADER_BYTES": "8192", "HTTP_DRAIN_TIMEOUT": "5s",
		}, Config{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 8192, 5 * time.Second}, ""},
		{"every problem", map[string]string{"HTTP_READ_TIMEOUT": "soon", "HTTP_MAX_HEADER_BYTES": "10"}, Defaults(),
			"invalid configuration (2 problems):\n" +
				"  HTTP_READ_TIMEOUT: \"soon\" is not a duration like 30s or 5m\n" +
				"  HTTP_MAX_HEADER_BYTES: 10 is out of range [4096, 1048576]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := config.FromMap(tc.env)
			got := ConfigFromEnv(e)
			if got != tc.want {
				t.Errorf("ConfigFromEnv = %+v, want %+v", got, tc.want)
			}
			err := ""
			if e.Err() != nil {
				err = e.Err().Error()
			}
			if !strings.EqualFold(err, tc.err) {
				t.Errorf("error = %q, want %q", err, tc.err)
			}
		})
	}
}
