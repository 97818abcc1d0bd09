// Package store keeps claim status records in Redis: one hash of records
// per cluster, per-cluster counts, a hash of clusters with their last-seen
// time, a generation counter bumped by every real change, the generation
// last reconciled, a lock and the publisher's state. All keys share one
// hash tag so the multi-key scripts also run on Redis Cluster.
package store

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// NewClient builds a client from a REDIS_URL. Accepted forms:
//
//	redis://[user:pass@]host:port[/db]            standalone (rediss:// for TLS)
//	unix:///path/to/redis.sock[?db=N]             standalone over a socket
//	redis+sentinel://host:port?master_name=m&addr=host2:port   Sentinel (rediss+sentinel:// for TLS)
//	redis+cluster://host:port?addr=host2:port     Cluster (rediss+cluster:// for TLS)
//
// Errors never echo the URL, which may hold a password.
func NewClient(rawURL string) (redis.UniversalClient, error) { return newClient(rawURL, "") }

// newClient is NewClient with a password from outside the URL (""
// keeps the URL's, if any).
func newClient(rawURL, password string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: not a URL")
	}
	scheme, mode, _ := strings.Cut(u.Scheme, "+")
	switch {
	case mode == "" && (scheme == "redis" || scheme == "rediss" || scheme == "unix"):
		opts, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %s", redact(err, u))
		}
		if password != "" {
			opts.Password = password
		}
		return redis.NewClient(opts), nil
	case mode == "sentinel" && (scheme == "redis" || scheme == "rediss"):
		u.Scheme = scheme
		opts, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL (sentinel): %s", redact(err, u))
		}
		if opts.MasterName == "" {
			return nil, fmt.Errorf("REDIS_URL (sentinel): master_name query parameter is required")
		}
		if password != "" {
			opts.Password = password
		}
		return redis.NewFailoverClient(opts), nil
	case mode == "cluster" && (scheme == "redis" || scheme == "rediss"):
		u.Scheme = scheme
		opts, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL (cluster): %s", redact(err, u))
		}
		if password != "" {
			opts.Password = password
		}
		return redis.NewClusterClient(opts), nil
	}
	return nil, fmt.Errorf("REDIS_URL: scheme %q not supported (use redis, rediss, unix, redis+sentinel or redis+cluster)", u.Scheme)
}

// redact removes the URL's password from a parse error's text.
func redact(err error, u *url.URL) string {
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}
