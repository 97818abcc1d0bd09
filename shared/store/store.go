package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Store reads and writes status records in Redis. It is safe for
// concurrent use; all state lives in Redis, so any number of processes may
// share one.
type Store struct {
	rdb        redis.UniversalClient
	k          keys
	commit     committer
	claimLimit atomic.Int64 // claims per cluster; 0: none
}

// New returns a store over rdb whose keys start with prefix (DefaultPrefix
// when empty). The prefix should be a Redis Cluster hash tag like "{msc}".
func New(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	s := &Store{rdb: rdb, k: keys{prefix: prefix}}
	s.SetClaimLimit(DefaultClaimLimit)
	return s
}

// Client is the underlying Redis client.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Clusters lists the names of every cluster that has sent a record, sorted.
func (s *Store) Clusters(ctx context.Context) ([]string, error) {
	names, err := s.rdb.HKeys(ctx, s.k.clusters()).Result()
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// ClusterRecords returns the records of one cluster sorted by key; an
// unknown cluster has none.
func (s *Store) ClusterRecords(ctx context.Context, cluster string) ([]status.Record, error) {
	vals, err := s.rdb.HVals(ctx, s.k.claims(cluster)).Result()
	if err != nil {
		return nil, fmt.Errorf("read records of cluster %s: %w", cluster, err)
	}
	return decodeAll(vals, cluster)
}

// AllRecords returns every record of every cluster, sorted by cluster
// then key, reading all clusters in one pipelined round trip.
func (s *Store) AllRecords(ctx context.Context) ([]status.Record, error) {
	clusters, err := s.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.StringSliceCmd, len(clusters))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range clusters {
			cmds[i] = p.HVals(ctx, s.k.claims(c))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read records of %d clusters: %w", len(clusters), err)
	}
	var all []status.Record
	for i, cmd := range cmds {
		recs, err := decodeAll(cmd.Val(), clusters[i])
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	return all, nil
}

func decodeAll(vals []string, cluster string) ([]status.Record, error) {
	recs := make([]status.Record, 0, len(vals))
	for _, v := range vals {
		r, err := decodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("decode record of cluster %s: %w", cluster, err)
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Key() < recs[j].Key() })
	return recs, nil
}

// Summary describes one cluster: when it last sent anything and how many
// of its claims are ready, not ready and deleted.
type Summary struct {
	Cluster  string `json:"cluster"`
	LastSeen string `json:"lastSeen"`
	Ready    int64  `json:"ready"`
	NotReady int64  `json:"notReady"`
	Deleted  int64  `json:"deleted"`
}

// Summaries returns one summary per cluster, sorted by name, in two round trips.
func (s *Store) Summaries(ctx context.Context) ([]Summary, error) {
	seen, err := s.rdb.HGetAll(ctx, s.k.clusters()).Result()
	if err != nil {
		return nil, fmt.Errorf("read clusters: %w", err)
	}
	names := make([]string, 0, len(seen))
	for c := range seen {
		names = append(names, c)
	}
	sort.Strings(names)
	cmds := make([]*redis.MapStringStringCmd, len(names))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range names {
			cmds[i] = p.HGetAll(ctx, s.k.counts(c))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cluster counts: %w", err)
	}
	out := make([]Summary, len(names))
	for i, c := range names {
		m := cmds[i].Val()
		out[i] = Summary{Cluster: c, LastSeen: seen[c], Ready: atoi(m["R"]), NotReady: atoi(m["N"]), Deleted: atoi(m["D"])}
	}
	return out, nil
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Generations returns the current generation and the generation last
// reconciled. The store is dirty when current > reconciled.
func (s *Store) Generations(ctx context.Context) (current, reconciled int64, err error) {
	vals, err := s.rdb.MGet(ctx, s.k.generation(), s.k.reconciled()).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("read generations: %w", err)
	}
	str := func(v any) int64 { s, _ := v.(string); return atoi(s) }
	return str(vals[0]), str(vals[1]), nil
}

// ErrLocked is returned by Acquire when another run holds the lock.
var ErrLocked = errors.New("locked")

// releaseScript deletes the lock only if it still holds our token, so a
// run whose lock expired cannot release the next run's lock.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// ErrLockLost is returned by Lease.MarkReconciled when the lease's lock
// is gone: it expired and maybe another run took it, or Redis restarted
// without persistence and the generation the run read no longer exists.
var ErrLockLost = errors.New("reconcile lock lost")

// Lease is a held reconcile lock.
type Lease struct {
	s     *Store
	token string
}

// Acquire takes the reconcile lock for ttl (SET NX PX with a random
// token), returning ErrLocked when another holder has it.
func (s *Store) Acquire(ctx context.Context, ttl time.Duration) (*Lease, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("lock token: %w", err)
	}
	token := hex.EncodeToString(b[:])
	ok, err := s.rdb.SetNX(ctx, s.k.lock(), token, ttl).Result()
	if err != nil {
		return nil, fmt.Errorf("take lock: %w", err)
	}
	if !ok {
		return nil, ErrLocked
	}
	return &Lease{s: s, token: token}, nil
}

// Release deletes the lock only if it is still ours.
func (l *Lease) Release(ctx context.Context) error {
	if err := releaseScript.Run(ctx, l.s.rdb, []string{l.s.k.lock()}, l.token).Err(); err != nil {
		return fmt.Errorf("release lock: %w", err)
	}
	return nil
}

// leaseMarkScript raises the reconciled generation, never lowers it (so a
// slow run that finishes after a later one cannot undo its mark), and only
// while the lock is ours: KEYS reconciled, lock; ARGV generation, token.
// It answers -1 when the lock is not ours.
var leaseMarkScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local g = tonumber(ARGV[1])
if g > cur then redis.call('SET', KEYS[1], ARGV[1]) return g end
return cur`)

// MarkReconciled records that everything up to generation gen is in the
// PR, only while the lock is still ours, atomically. The lock lives in
// the same Redis as the generation: when Redis restarted empty during the
// run, the lock is gone, and gen (read from the old Redis) must not be
// marked in the new one, whose counter starts again at 1 and would look
// clean until it passed gen. It returns ErrLockLost then; the generation
// stays dirty and the next run applies everything again.
func (l *Lease) MarkReconciled(ctx context.Context, gen int64) error {
	n, err := leaseMarkScript.Run(ctx, l.s.rdb, []string{l.s.k.reconciled(), l.s.k.lock()}, gen, l.token).Int64()
	if err != nil {
		return fmt.Errorf("mark generation %d reconciled: %w", gen, err)
	}
	if n < 0 {
		return fmt.Errorf("mark generation %d reconciled: %w", gen, ErrLockLost)
	}
	return nil
}

// PublishState returns the publisher state saved by the last run, or nil
// when there is none.
func (s *Store) PublishState(ctx context.Context) ([]byte, error) {
	b, err := s.rdb.Get(ctx, s.k.publishState()).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read publish state: %w", err)
	}
	return b, nil
}

// SavePublishState stores the publisher state for the next run.
func (s *Store) SavePublishState(ctx context.Context, state []byte) error {
	if err := s.rdb.Set(ctx, s.k.publishState(), state, 0).Err(); err != nil {
		return fmt.Errorf("save publish state: %w", err)
	}
	return nil
}

// Since is when the first record was written into this Redis: after a
// restart without persistence it is the time of the first write since.
// ok is false when nothing was written yet.
func (s *Store) Since(ctx context.Context) (t time.Time, ok bool, err error) {
	v, err := s.rdb.Get(ctx, s.k.since()).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read store age: %w", err)
	}
	t, err = time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read store age: %q is not a time", v)
	}
	return t, true, nil
}
