package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// FillTransitions gives every not-ready record of recs that carries no
// LastTransitionTime (a seed-era client sent it) the time the ingest first
// saw that status: the stored record's, when the stored record is the same
// claim (the same uid, or no uid on either side, as the apply script
// decides) with the same Ready value, else the record's own ReceivedAt.
// The stored record is the one the apply script will update: for a
// kind-less record whose claim is stored under exactly one kind, that
// kinded record (see kinds.go). Records that have one, and ready or
// deleted records, are left alone, so agent batches cost nothing; the
// others cost one pipelined round trip per batch before Apply, two when
// a kind-less record's claim has a kind.
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
	// fields[ci][j]: the field the script will write record byCluster[c][j] to.
	fields := make([][]string, len(clusters))
	kindCmds := make([]*redis.SliceCmd, len(clusters))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for ci, c := range clusters {
			fields[ci] = make([]string, len(byCluster[c]))
			var refs []string
			for j, i := range byCluster[c] {
				fields[ci][j] = recs[i].Key()
				if recs[i].Kind == "" {
					refs = append(refs, recs[i].ClaimRef)
				}
			}
			if len(refs) > 0 {
				kindCmds[ci] = p.HMGet(ctx, s.k.kinds(c), refs...)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the kinds of %d clusters: %w", len(clusters), err)
	}
	for ci, c := range clusters {
		if kindCmds[ci] == nil {
			continue
		}
		entries, k := kindCmds[ci].Val(), 0
		for j, i := range byCluster[c] {
			if recs[i].Kind != "" {
				continue
			}
			entry, _ := entries[k].(string)
			k++
			if kind, ok := onlyKind(entry); ok {
				fields[ci][j] = recs[i].ClaimRef + "#" + kind
			}
		}
	}
	cmds := make([]*redis.SliceCmd, len(clusters))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for ci, c := range clusters {
			cmds[ci] = p.HMGet(ctx, s.k.claims(c), fields[ci]...)
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
			sameClaim := old.UID == r.UID || old.UID == "" || r.UID == ""
			if old.State() == 'N' && old.Ready == r.Ready && sameClaim && old.LastTransitionTime != "" {
				r.LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	return nil
}

// onlyKind reads a kinds index entry (kinds.go): the kind, when the claim
// is stored under exactly one.
func onlyKind(entry string) (string, bool) {
	var kinds []string
	for _, k := range strings.Fields(entry) {
		if k != "-" {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		return "", false
	}
	return kinds[0], true
}
