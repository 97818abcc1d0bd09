package store

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// RequireURL records a problem in e when REDIS_URL is empty or does not
// parse (see CheckURL): the deployed functions need a Redis; only the
// local run embeds one instead.
func RequireURL(e *config.Env, url string) {
	if url == "" {
		e.Required("REDIS_URL", "redis://host:6379, rediss://, unix://, redis+sentinel:// or redis+cluster://")
		return
	}
	CheckURL(e, url)
}

// CheckURL records a problem in e when a set REDIS_URL has an unknown
// scheme or does not parse, so it is reported with every other problem
// instead of after they are fixed. It connects to nothing.
func CheckURL(e *config.Env, url string) {
	if url == "" {
		return
	}
	rdb, err := NewClient(url)
	if err != nil {
		e.Add(err)
		return
	}
	rdb.Close()
}

// Open connects to the Redis at rawURL (see NewClient) and returns a store
// with the given key prefix. On Redis Cluster the prefix must hold a hash
// tag: the scripts touch several keys, which a cluster serves only when
// they share a slot.
func Open(rawURL, prefix string) (*Store, error) { return OpenWithPassword(rawURL, "", prefix) }

// OpenWithPassword is Open with the password from PasswordFromEnv ("" for
// none), which the URL must then not hold. It asks Redis once, within
// authCheckTimeout, whether it lets the client in: a missing or wrong
// password fails here, so the function fails at start with an error that
// says so (and never holds the password). A Redis that does not answer
// is not an error here; readiness reports it until it does.
func OpenWithPassword(rawURL, password, prefix string) (*Store, error) {
	if password != "" {
		if u, err := url.Parse(rawURL); err == nil {
			if _, ok := u.User.Password(); ok {
				return nil, fmt.Errorf("REDIS_URL holds a password and REDIS_PASSWORD_FILE is set: keep the password in the file only")
			}
		}
	}
	rdb, err := newClient(rawURL, password)
	if err != nil {
		return nil, err
	}
	if _, ok := rdb.(*redis.ClusterClient); ok && prefix != "" && !hasHashTag(prefix) {
		rdb.Close()
		return nil, fmt.Errorf("REDIS_KEY_PREFIX: %q needs a hash tag such as {msc} on Redis Cluster, so that all keys share one slot", prefix)
	}
	ctx, cancel := context.WithTimeout(context.Background(), authCheckTimeout)
	defer cancel()
	if err := authError(rdb.Ping(ctx).Err()); err != nil {
		rdb.Close()
		return nil, err
	}
	return New(rdb, prefix), nil
}

// authCheckTimeout bounds OpenWithPassword's one question to Redis.
const authCheckTimeout = 3 * time.Second

// authError describes a refused login in words of our own, so neither
// the password nor anything derived from it can reach the log; nil for
// success and for errors that are not about the password.
func authError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NOAUTH"):
		return fmt.Errorf("REDIS_PASSWORD_FILE: Redis requires a password and none was given; mount the redis-password Secret and point REDIS_PASSWORD_FILE at it")
	case strings.HasPrefix(msg, "WRONGPASS"), strings.Contains(msg, "invalid password"), strings.Contains(msg, "invalid username-password"):
		return fmt.Errorf("REDIS_PASSWORD_FILE: Redis refused the password; it differs from the one Redis was started with")
	}
	return nil
}

// minPasswordLen keeps a placeholder or a guessable word out of use.
const minPasswordLen = 16

// PasswordFromEnv reads the Redis password from the file named by
// REDIS_PASSWORD_FILE (a mounted Secret), without its trailing newline;
// "" when the variable is unset. An unreadable file or a password shorter
// than minPasswordLen is recorded in e, without the file's content.
func PasswordFromEnv(e *config.Env) string {
	b := e.File("REDIS_PASSWORD_FILE")
	if b == nil {
		return ""
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if len(pw) < minPasswordLen {
		e.Fail("REDIS_PASSWORD_FILE", "the password in %s is shorter than %d characters", e.Get("REDIS_PASSWORD_FILE"), minPasswordLen)
	}
	return pw
}

// hasHashTag reports whether key holds a non-empty {tag}, the part Redis
// Cluster hashes instead of the whole key.
func hasHashTag(key string) bool {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return false
	}
	end := strings.IndexByte(key[open+1:], '}')
	return end > 0
}
