package bootstrap

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
)

type settings struct{ url, prefix, other string }

func read(e *config.Env) settings {
	return settings{url: e.Get("REDIS_URL"), prefix: e.String("REDIS_KEY_PREFIX", "{msc}"), other: e.Required("OTHER", "a test value")}
}

func redisOf(s settings) (string, string) { return s.url, s.prefix }

func TestFromEnvReportsEveryProblem(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("OTHER", "")
	t.Setenv("LOG_LEVEL", "loud")
	_, err := FromEnv("fn", read, redisOf)
	if err == nil {
		t.Fatal("no error with REDIS_URL, OTHER and LOG_LEVEL wrong")
	}
	for _, want := range []string{"fn: invalid configuration (3 problems)", "LOG_LEVEL", "OTHER: is required", "REDIS_URL: is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestFromEnvOpensTheStore(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
	t.Setenv("OTHER", "x")
	t.Setenv("LOG_LEVEL", "")
	p, err := FromEnv("fn", read, redisOf)
	if err != nil || p.Store == nil || p.Log == nil || p.Config.other != "x" {
		t.Fatalf("FromEnv = %+v, %v", p, err)
	}
}

// A bad REDIS_URL scheme is reported with the other problems, not after
// they are fixed.
func TestFromEnvReportsTheSchemeInOnePass(t *testing.T) {
	t.Setenv("REDIS_URL", "http://nope")
	t.Setenv("OTHER", "")
	t.Setenv("LOG_LEVEL", "")
	_, err := FromEnv("fn", read, redisOf)
	want := `fn: invalid configuration (2 problems):
  OTHER: is required (a test value)
  REDIS_URL: scheme "http" not supported (use redis, rediss, unix, redis+sentinel or redis+cluster)`
	if err == nil || err.Error() != want {
		t.Fatalf("err =\n%v\nwant\n%s", err, want)
	}
}

// The password comes from REDIS_PASSWORD_FILE; a wrong one fails the
// start with an error naming the variable and not the password.
func TestFromEnvRedisPassword(t *testing.T) {
	const secret = "redis-password-for-bootstrap-test"
	srv := redistest.StartWithPassword(t, secret)
	file := filepath.Join(t.TempDir(), "password")
	t.Setenv("REDIS_URL", srv.URL)
	t.Setenv("OTHER", "x")
	t.Setenv("REDIS_PASSWORD_FILE", file)
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := FromEnv("fn", read, redisOf)
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := p.Store.Ping(context.Background()); err != nil {
		t.Fatalf("ping with the right password: %v", err)
	}
	if err := os.WriteFile(file, []byte("wrong-"+secret), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = FromEnv("fn", read, redisOf)
	want := "fn: REDIS_PASSWORD_FILE: Redis refused the password; it differs from the one Redis was started with"
	if err == nil || err.Error() != want {
		t.Fatalf("wrong password: err = %v, want %s", err, want)
	}
}

// TestFromEnvServerSettings: FUNCTION_TARGET must name this function, and
// PORT and HTTP_* problems are reported with the others, in one pass.
func TestFromEnvServerSettings(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
	t.Setenv("OTHER", "x")
	t.Setenv("LOG_LEVEL", "")
	t.Setenv("FUNCTION_TARGET", "other")
	t.Setenv("PORT", "http")
	t.Setenv("HTTP_IDLE_TIMEOUT", "1ms")
	_, err := FromEnv("fn", read, redisOf)
	want := "fn: invalid configuration (3 problems):\n" +
		"  FUNCTION_TARGET: \"other\" is not a function of this binary, which serves \"fn\"\n" +
		"  PORT: \"http\" is not an integer\n" +
		"  HTTP_IDLE_TIMEOUT: 1ms is shorter than the minimum 10ms"
	if err == nil || err.Error() != want {
		t.Fatalf("FromEnv error:\n%v\nwant:\n%s", err, want)
	}
	t.Setenv("FUNCTION_TARGET", "fn")
	t.Setenv("PORT", "9999")
	t.Setenv("HTTP_IDLE_TIMEOUT", "")
	p, err := FromEnv("fn", read, redisOf)
	if err != nil || p.Port != 9999 || p.Name != "fn" || p.HTTP.IdleTimeout != 60*time.Second {
		t.Fatalf("FromEnv = %+v, %v", p, err)
	}
}

// Register lists, for --help, what FromEnv reads beside the function's
// own settings, with REDIS_URL required.
func TestRegisterDescribesTheServer(t *testing.T) {
	Register("ingest")
	got := map[string]config.Var{}
	for _, v := range config.Registered() {
		got[v.Name] = v
	}
	for _, want := range []config.Var{
		{Name: "REDIS_URL", Required: true},
		{Name: "REDIS_PASSWORD_FILE"},
		{Name: "FUNCTION_TARGET"},
		{Name: "PORT", Default: "8080"},
		{Name: "HTTP_READ_HEADER_TIMEOUT", Default: "5s"},
		{Name: "HTTP_DRAIN_TIMEOUT", Default: "20s"},
	} {
		if v, ok := got[want.Name]; !ok || v.Default != want.Default || v.Required != want.Required {
			t.Errorf("%s: got %+v (listed %v), want %+v", want.Name, v, ok, want)
		}
	}
}
