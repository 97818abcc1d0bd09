package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Outcome is what a write did to one record.
type Outcome byte

const (
	// Accepted: the record was new or its content changed; stored.
	Accepted Outcome = 'a'
	// Unchanged: same content as stored; timestamps refreshed, generation untouched.
	Unchanged Outcome = 'u'
	// Stale: older than the stored record (observedAt, then generation); ignored.
	Stale Outcome = 's'
)

// Result reports a batch write: one outcome per record, in input order,
// their counts, and the generation after the write.
type Result struct {
	Outcomes   []Outcome
	Accepted   int
	Unchanged  int
	Stale      int
	Generation int64
}

// applyScript writes a batch in one atomic call. Each stored value starts
// with a header line "sec\tnsec\tgen\tuid\thash\tstate\n" so the script can
// order and compare records without decoding JSON. It reads and decides
// everything first and writes only afterwards: a script stops at its first
// failing command and Redis does not roll back, so a failure (for example
// OOM, which Redis raises at the first write) must come before any write.
//
// KEYS: generation, clusters, then claims and counts key per cluster.
// ARGV: receivedAt, m, m cluster names, n, then per record 8 values:
// cluster index (1-based), field, sec, nsec, gen, uid, hash, state, value.
var applyScript = redis.NewScript(`
local now = ARGV[1]
local m = tonumber(ARGV[2])
local base = 3 + m
local n = tonumber(ARGV[base])
local out, writes, incs = {}, {}, {}
local changed = false
for i = 0, n - 1 do
  local a = base + 1 + i * 9
  local ci = tonumber(ARGV[a])
  local hkey, ckey = KEYS[1 + 2 * ci], KEYS[2 + 2 * ci]
  local field, sec, nsec, gen = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local uid, hash, state, value = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
  -- a record earlier in this batch wins over the stored one
  local old = writes[hkey .. '\0' .. field]
  if old == nil then old = redis.call('HGET', hkey, field) end
  local res = 'a'
  if old then
    local os, on, og, ou, oh, ost = string.match(old, '^(%d+)\t(%d+)\t(%d+)\t([^\t]*)\t([^\t]*)\t(%a)\n')
    if os ~= nil then
      os, on, og = tonumber(os), tonumber(on), tonumber(og)
      local newer = sec > os or (sec == os and (nsec > on or (nsec == on and gen >= og)))
      if uid ~= '' and ou ~= '' and uid ~= ou then
        res = 'a'
      elseif not newer then
        res = 's'
      elseif hash == oh then
        res = 'u'
      end
      if res == 'a' and ost ~= state then
        incs[#incs + 1] = {ckey, ost, -1}
        incs[#incs + 1] = {ckey, state, 1}
      end
    else
      incs[#incs + 1] = {ckey, state, 1}
    end
  else
    incs[#incs + 1] = {ckey, state, 1}
  end
  if res == 'a' then changed = true end
  if res ~= 's' then writes[hkey .. '\0' .. field] = value end
  out[i + 1] = res
end
-- writes: after every read and decision
for c = 1, m do
  redis.call('HSET', KEYS[2], ARGV[2 + c], now)
end
for k, v in pairs(writes) do
  local sep = string.find(k, '\0', 1, true)
  redis.call('HSET', string.sub(k, 1, sep - 1), string.sub(k, sep + 1), v)
end
for _, inc in ipairs(incs) do
  redis.call('HINCRBY', inc[1], inc[2], inc[3])
end
local g
if changed then
  g = redis.call('INCR', KEYS[1])
else
  g = tonumber(redis.call('GET', KEYS[1]) or '0')
end
return {table.concat(out), g}
`)

// Apply stores records that have passed status.Record.Normalize, in one
// atomic script call: newer wins, a new uid replaces, identical content is
// unchanged, and the generation moves only when something was accepted.
// receivedAt marks every cluster in the batch as seen.
func (s *Store) Apply(ctx context.Context, receivedAt string, records []status.Record) (Result, error) {
	if len(records) == 0 {
		return Result{}, nil
	}
	clusterIdx := make(map[string]int, 1)
	var clusters []string
	keys := []string{s.k.generation(), s.k.clusters()}
	args := make([]any, 0, 3+9*len(records)+2)
	args = append(args, receivedAt, 0) // m is patched below
	for i := range records {
		c := records[i].Cluster
		if _, ok := clusterIdx[c]; !ok {
			clusters = append(clusters, c)
			clusterIdx[c] = len(clusters)
			keys = append(keys, s.k.claims(c), s.k.counts(c))
		}
	}
	args[1] = len(clusters)
	for _, c := range clusters {
		args = append(args, c)
	}
	args = append(args, len(records))
	buf := make([]byte, 0, 512)
	for i := range records {
		r := &records[i]
		t := r.ObservedTime()
		hash := strconv.FormatUint(r.ContentHash(), 16)
		var err error
		buf, err = encodeValue(buf[:0], r, t, hash)
		if err != nil {
			return Result{}, fmt.Errorf("encode %s/%s: %w", r.Cluster, r.Key(), err)
		}
		args = append(args, clusterIdx[r.Cluster], r.Key(), t.Unix(), t.Nanosecond(), r.Generation,
			r.UID, hash, string([]byte{r.State()}), string(buf))
	}
	reply, err := applyScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return Result{}, fmt.Errorf("store %d records: %w", len(records), err)
	}
	return parseApplyReply(reply, len(records))
}

func parseApplyReply(reply []any, n int) (Result, error) {
	if len(reply) != 2 {
		return Result{}, fmt.Errorf("store: unexpected script reply of %d values", len(reply))
	}
	codes, _ := reply[0].(string)
	gen, _ := reply[1].(int64)
	if len(codes) != n {
		return Result{}, fmt.Errorf("store: script answered %d outcomes for %d records", len(codes), n)
	}
	res := Result{Outcomes: make([]Outcome, n), Generation: gen}
	for i := 0; i < n; i++ {
		o := Outcome(codes[i])
		res.Outcomes[i] = o
		switch o {
		case Accepted:
			res.Accepted++
		case Unchanged:
			res.Unchanged++
		case Stale:
			res.Stale++
		}
	}
	return res, nil
}

// encodeValue appends the stored form of r: the header line, then JSON.
func encodeValue(dst []byte, r *status.Record, observed time.Time, hash string) ([]byte, error) {
	dst = strconv.AppendInt(dst, observed.Unix(), 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(observed.Nanosecond()), 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, r.Generation, 10)
	dst = append(dst, '\t')
	dst = append(dst, r.UID...)
	dst = append(dst, '\t')
	dst = append(dst, hash...)
	dst = append(dst, '\t', r.State(), '\n')
	js, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(dst, js...), nil
}

// decodeValue parses a stored value back into a record.
func decodeValue(v string) (status.Record, error) {
	var r status.Record
	for i := 0; i < len(v); i++ {
		if v[i] == '\n' {
			err := json.Unmarshal([]byte(v[i+1:]), &r)
			return r, err
		}
	}
	return r, fmt.Errorf("stored value has no header line")
}
