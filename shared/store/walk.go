package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Position is a place in the (cluster, claim key) order of all records.
// A walk from a Position visits only the records after it; the zero
// Position is before every record.
type Position struct{ Cluster, Key string }

// Before reports whether p comes before q in walk order.
func (p Position) Before(q Position) bool {
	if p.Cluster != q.Cluster {
		return p.Cluster < q.Cluster
	}
	return p.Key < q.Key
}

// walkChunk is how many records one HMGET of a walk fetches: big enough
// to amortise the round trip, small enough that a chunk of 4 KiB
// messages stays around a megabyte.
const walkChunk = 256

// Walk calls fn with every record of cluster (of every cluster when
// cluster is "") after from, in (cluster, key) order, with the record's
// stored JSON (exactly its wire form). fn returns false to stop the walk.
// Walk fetches walkChunk records per round trip, each bounded by step, so
// its memory is one cluster's claim keys (bounded by the claim limit) and
// one chunk of values, whatever the size of the answer. A record written
// after its cluster's keys were listed is not visited; one deleted
// meanwhile is skipped.
func (s *Store) Walk(ctx context.Context, cluster string, from Position, step time.Duration, fn func(Position, string) bool) error {
	clusters := []string{cluster}
	if cluster == "" {
		var err error
		if err = s.bounded(ctx, step, func(ctx context.Context) error { clusters, err = s.Clusters(ctx); return err }); err != nil {
			return err
		}
	}
	for _, c := range clusters {
		if c < from.Cluster {
			continue
		}
		more, err := s.walkCluster(ctx, c, from, step, fn)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// walkCluster walks one cluster's records after from; false when fn stopped.
func (s *Store) walkCluster(ctx context.Context, cluster string, from Position, step time.Duration, fn func(Position, string) bool) (bool, error) {
	var keys []string
	err := s.bounded(ctx, step, func(ctx context.Context) (err error) {
		keys, err = s.rdb.HKeys(ctx, s.k.claims(cluster)).Result()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("list claims of cluster %s: %w", cluster, err)
	}
	sort.Strings(keys)
	if cluster == from.Cluster {
		keys = keys[sort.Search(len(keys), func(i int) bool { return keys[i] > from.Key }):]
	}
	for len(keys) > 0 {
		part := keys[:min(walkChunk, len(keys))]
		keys = keys[len(part):]
		var vals []any
		err := s.bounded(ctx, step, func(ctx context.Context) (err error) {
			vals, err = s.rdb.HMGet(ctx, s.k.claims(cluster), part...).Result()
			return err
		})
		if err != nil {
			return false, fmt.Errorf("read claims of cluster %s: %w", cluster, err)
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue // deleted since HKEYS
			}
			_, js, ok := strings.Cut(str, "\n")
			if !ok {
				return false, fmt.Errorf("read claim %s of cluster %s: stored value has no header line", part[i], cluster)
			}
			if !fn(Position{cluster, part[i]}, js) {
				return false, nil
			}
		}
	}
	return true, nil
}

// bounded runs one Redis round trip with its own deadline step, so a
// long walk is bounded per step rather than as a whole.
func (s *Store) bounded(ctx context.Context, step time.Duration, do func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, step)
	defer cancel()
	err := do(ctx)
	if err == redis.Nil {
		return nil
	}
	return err
}
