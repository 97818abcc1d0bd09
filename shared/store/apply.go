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
// order and compare records without decoding JSON; new records arrive in
// the same form. Per cluster it reads every old value with one HMGET and
// writes with one HSET (in chunks), because each redis.call costs more than
// the work it does. It decides everything before its first write: a script
// stops at its first failing command and Redis does not roll back, so a
// failure (for example OOM, which Redis raises at the first write) must
// come before any write.
//
// KEYS: generation, clusters, then claims and counts key per cluster group.
// ARGV: receivedAt, number of groups, then per group: cluster name, n, and
// n field/value pairs. The reply is one outcome letter per record, in
// argument order, and the generation.
var applyScript = redis.NewScript(`
local header = '^(%d+)\t(%d+)\t(%d+)\t([^\t]*)\t([^\t]*)\t(%a)\n'
local chunk = 1000
local function parse(v)
  local s, ns, g, u, h, st = string.match(v, header)
  if s == nil then return nil end
  return {tonumber(s), tonumber(ns), tonumber(g), u, h, st}
end
local now, groups = ARGV[1], tonumber(ARGV[2])
local out, pending, changed, a = {}, {}, false, 3
for gi = 1, groups do
  local hkey, ckey = KEYS[1 + 2 * gi], KEYS[2 + 2 * gi]
  local cluster, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local fields = {}
  for i = 1, n do fields[i] = ARGV[a + 2 * (i - 1)] end
  local olds = {}
  for s = 1, n, chunk do
    local part = redis.call('HMGET', hkey, unpack(fields, s, math.min(s + chunk - 1, n)))
    for k = 1, #part do olds[s + k - 1] = part[k] end
  end
  local hset, latest, delta = {}, {}, {R = 0, N = 0, D = 0}
  for i = 1, n do
    local field, value = fields[i], ARGV[a + 2 * (i - 1) + 1]
    local new = parse(value)
    local old = latest[field]
    if old == nil and olds[i] then old = parse(olds[i]) end
    local res = 'a'
    if old then
      local newer = new[1] > old[1] or (new[1] == old[1] and (new[2] > old[2] or (new[2] == old[2] and new[3] >= old[3])))
      if new[4] ~= '' and old[4] ~= '' and new[4] ~= old[4] then
        res = 'a'
      elseif not newer then
        res = 's'
      elseif new[5] == old[5] then
        res = 'u'
      end
      if res == 'a' and old[6] ~= new[6] then
        delta[old[6]] = delta[old[6]] - 1
        delta[new[6]] = delta[new[6]] + 1
      end
    else
      delta[new[6]] = delta[new[6]] + 1
    end
    if res ~= 's' then
      latest[field] = new
      hset[#hset + 1] = field
      hset[#hset + 1] = value
    end
    if res == 'a' then changed = true end
    out[#out + 1] = res
  end
  pending[gi] = {hkey, ckey, cluster, hset, delta}
  a = a + 2 * n
end
for _, p in ipairs(pending) do
  redis.call('HSET', KEYS[2], p[3], now)
  local hset = p[4]
  for s = 1, #hset, 2 * chunk do
    redis.call('HSET', p[1], unpack(hset, s, math.min(s + 2 * chunk - 1, #hset)))
  end
  for st, d in pairs(p[5]) do
    if d ~= 0 then redis.call('HINCRBY', p[2], st, d) end
  end
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
// receivedAt marks every cluster in the batch as seen. Outcomes come back
// in the order of records.
func (s *Store) Apply(ctx context.Context, receivedAt string, records []status.Record) (Result, error) {
	if len(records) == 0 {
		return Result{}, nil
	}
	// Group by cluster, keeping input order within a group; order maps a
	// position in the script's arguments back to the input.
	groups := map[string][]int{}
	var clusters []string
	for i := range records {
		c := records[i].Cluster
		if _, ok := groups[c]; !ok {
			clusters = append(clusters, c)
		}
		groups[c] = append(groups[c], i)
	}
	keys := make([]string, 0, 2+2*len(clusters))
	keys = append(keys, s.k.generation(), s.k.clusters())
	args := make([]any, 0, 2+2*len(clusters)+2*len(records))
	args = append(args, receivedAt, len(clusters))
	order := make([]int, 0, len(records))
	// One buffer holds every encoded value; the arguments are slices of it.
	buf := make([]byte, 0, len(records)*512)
	for _, c := range clusters {
		keys = append(keys, s.k.claims(c), s.k.counts(c))
		args = append(args, c, len(groups[c]))
		for _, i := range groups[c] {
			r := &records[i]
			var err error
			start := len(buf)
			buf, err = encodeValue(buf, r, r.ObservedTime())
			if err != nil {
				return Result{}, fmt.Errorf("encode %s/%s: %w", r.Cluster, r.Key(), err)
			}
			args = append(args, r.Key(), buf[start:len(buf):len(buf)])
			order = append(order, i)
		}
	}
	reply, err := applyScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return Result{}, fmt.Errorf("store %d records: %w", len(records), err)
	}
	return parseApplyReply(reply, order)
}

func parseApplyReply(reply []any, order []int) (Result, error) {
	n := len(order)
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
		res.Outcomes[order[i]] = o
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
func encodeValue(dst []byte, r *status.Record, observed time.Time) ([]byte, error) {
	dst = strconv.AppendInt(dst, observed.Unix(), 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(observed.Nanosecond()), 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, r.Generation, 10)
	dst = append(dst, '\t')
	dst = append(dst, r.UID...)
	dst = append(dst, '\t')
	dst = strconv.AppendUint(dst, r.ContentHash(), 16)
	dst = append(dst, '\t', r.State(), '\n')
	return r.AppendJSON(dst), nil
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
