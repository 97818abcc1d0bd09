package store

import "github.com/stuttgart-things/machinery-status-collector/shared/config"

// RequireURL records a problem in e when REDIS_URL is empty: the deployed
// functions need a Redis; only the local run embeds one instead.
func RequireURL(e *config.Env, url string) {
	if url == "" {
		e.Fail("REDIS_URL", "is required (redis://host:6379, rediss://, unix://, redis+sentinel:// or redis+cluster://)")
	}
}

// Open connects to the Redis at rawURL (see NewClient) and returns a store
// with the given key prefix.
func Open(rawURL, prefix string) (*Store, error) {
	rdb, err := NewClient(rawURL)
	if err != nil {
		return nil, err
	}
	return New(rdb, prefix), nil
}
