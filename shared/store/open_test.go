package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
)

// A Redis with a password lets in only a client that gives it: a missing
// or wrong password fails Open with an error that names the variable and
// never holds a password.
func TestOpenWithPassword(t *testing.T) {
	const secret = "s3cret-redis-password-0123456789"
	srv := redistest.StartWithPassword(t, secret)
	plain := redistest.Start(t)
	tests := []struct {
		name, url, password, wantErr string
	}{
		{"right password", srv.URL, secret, ""},
		{"no password", srv.URL, "", "REDIS_PASSWORD_FILE: Redis requires a password and none was given; mount the redis-password Secret and point REDIS_PASSWORD_FILE at it"},
		{"wrong password", srv.URL, "not-" + secret, "REDIS_PASSWORD_FILE: Redis refused the password; it differs from the one Redis was started with"},
		{"wrong password in the URL", "redis://:not-" + secret + "@" + srv.Addr, "", "REDIS_PASSWORD_FILE: Redis refused the password; it differs from the one Redis was started with"},
		// Redis 7's default user without a password takes any (HELLO AUTH).
		{"password for a Redis without one", plain.URL, secret, ""},
		{"password twice", "redis://:" + secret + "@" + srv.Addr, secret, "REDIS_URL holds a password and REDIS_PASSWORD_FILE is set: keep the password in the file only"},
		{"unreachable is not an auth failure", "redis://127.0.0.1:1", secret, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenWithPassword(tt.url, tt.password, "")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("err = %q, want %q", got, tt.wantErr)
			}
			if strings.Contains(got, "s3cret") {
				t.Fatalf("error holds the password: %s", got)
			}
			if s == nil {
				return
			}
			defer s.Client().Close()
			if tt.url == srv.URL {
				exerciseStore(t, s)
			}
		})
	}
}

func TestPasswordFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		env          map[string]string
		want, errMsg string
	}{
		{map[string]string{}, "", ""},
		{map[string]string{"REDIS_PASSWORD_FILE": file("pw", "hunter2-password\n")}, "hunter2-password", ""},
		{map[string]string{"REDIS_PASSWORD_FILE": file("empty", "\n")}, "", "REDIS_PASSWORD_FILE: the password in " + filepath.Join(dir, "empty") + " is shorter than 16 characters"},
		{map[string]string{"REDIS_PASSWORD_FILE": file("short", "CHANGE-ME\n")}, "CHANGE-ME", "REDIS_PASSWORD_FILE: the password in " + filepath.Join(dir, "short") + " is shorter than 16 characters"},
		{map[string]string{"REDIS_PASSWORD_FILE": filepath.Join(dir, "missing")}, "", "REDIS_PASSWORD_FILE: cannot read " + filepath.Join(dir, "missing") + ": no such file or directory"},
	}
	for _, tt := range tests {
		e := config.FromMap(tt.env)
		got := PasswordFromEnv(e)
		errMsg := ""
		if err := e.Err(); err != nil {
			errMsg = strings.TrimSpace(strings.SplitN(err.Error(), "\n", 2)[1])
		}
		if got != tt.want || errMsg != tt.errMsg {
			t.Errorf("PasswordFromEnv(%v) = %q, %q; want %q, %q", tt.env, got, errMsg, tt.want, tt.errMsg)
		}
	}
}
