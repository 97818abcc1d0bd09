package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// FillTransitions gives every not-ready record of recs that carries no
// LastTransitionTime (a seed-era client sent it) the time the ingest first
// saw that status: the stored record's, when the stored record is the same
// claim (uid) with the same Ready value, else the record's own ReceivedAt.
// Records that have one, and ready or deleted records, are left alone, so
// agent batches cost nothing; the others cost one pipelined HMGET per
// cluster before Apply.
//
// It runs before Apply and outside its script on purpose: the script stays
// the only writer and unchanged. Two concurrent writes of one claim may
// both see the older stored record; the later one then keeps that record's
// time, which is still when the status was first seen unless the Ready
// value changed in between.
func (s *Store) FillTransitions(ctx context.Context, recs []status.Record) error {
	byCluster := map[string][]int{}
	var clusters []string
	for i := range recs {
		r := &recs[i]
		if r.LastTransitionTime != "" || r.State() != 'N' {
			continue
		}
		if _, ok := byCluster[r.Cluster]; !ok {
			clusters = append(clusters, r.Cluster)
		}
		byCluster[r.Cluster] = append(byCluster[r.Cluster], i)
	}
	if len(clusters) == 0 {
		return nil
	}
	cmds := make([]*redis.SliceCmd, len(clusters))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for ci, c := range clusters {
			fields := make([]string, len(byCluster[c]))
			for j, i := range byCluster[c] {
				fields[j] = recs[i].Key()
			}
			cmds[ci] = p.HMGet(ctx, s.k.claims(c), fields...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read previous records of %d clusters: %w", len(clusters), err)
	}
	for ci, c := range clusters {
		olds := cmds[ci].Val()
		for j, i := range byCluster[c] {
			r := &recs[i]
			r.LastTransitionTime = r.ReceivedAt
			v, _ := olds[j].(string)
			if v == "" {
				continue
			}
			old, err := decodeValue(v)
			if err != nil {
				continue // an unreadable record is replaced anyway
			}
			if old.State() == 'N' && old.Ready == r.Ready && old.UID == r.UID && old.LastTransitionTime != "" {
				r.LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	return nil
}
