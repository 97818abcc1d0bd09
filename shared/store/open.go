package store

import (
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
)

// RequireURL records a problem in e when REDIS_URL is empty or does not
// parse (see CheckURL): the deployed functions need a Redis; only the
// local run embeds one instead.
func RequireURL(e *config.Env, url string) {
	if url == "" {
		e.Fail("REDIS_URL", "is required (redis://host:6379, rediss://, unix://, redis+sentinel:// or redis+cluster://)")
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
func Open(rawURL, prefix string) (*Store, error) {
	rdb, err := NewClient(rawURL)
	if err != nil {
		return nil, err
	}
	if _, ok := rdb.(*redis.ClusterClient); ok && prefix != "" && !hasHashTag(prefix) {
		rdb.Close()
		return nil, fmt.Errorf("REDIS_KEY_PREFIX: %q needs a hash tag such as {msc} on Redis Cluster, so that all keys share one slot", prefix)
	}
	return New(rdb, prefix), nil
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
