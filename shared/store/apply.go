package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
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
// with a fixed-width header line (see encodeValue) so the script orders
// and compares records by slicing strings, without decoding JSON or
// converting numbers: Lua work per record is what bounds batch throughput.
// Per cluster it reads every old value with one HMGET and writes with one
// HSET (in chunks), because each redis.call costs more than the work it
// does. It decides everything before its first write: a script stops at its
// first failing command and Redis does not roll back, so a failure (for
// example OOM, which Redis raises at the first write) must come before any
// write.
//
// KEYS: generation, clusters, then claims and counts key per cluster
// group, the "since" key, set to receivedAt by the first write into an
// empty Redis, and last the kinds key of each group (see kinds.go).
// ARGV: receivedAt, number of groups, then per group: cluster name, n, and
// n field/value pairs, and last the claim limit per cluster (0: none). The
// reply is one outcome letter per record, in argument order, and the
// generation; a group that would take its cluster over the limit fails the
// call with a "CLAIMLIMIT cluster held new limit" error, before any write.
var applyScript = newScript(`
local sub, byte = string.sub, string.byte
local chunk = 1000
local noUID = '` + noUID + `'
local stateName = {[82] = 'R', [78] = 'N', [68] = 'D'}
local now, groups = ARGV[1], tonumber(ARGV[2])
local pending, changed, a = {}, false, 3
` + kindsPrelude + `
for gi = 1, groups do
  local hkey, ckey = KEYS[1 + 2 * gi], KEYS[2 + 2 * gi]
  local cluster, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local fields = {}
  for i = 1, n do fields[i] = ARGV[a + 2 * (i - 1)] end
` + kindsResolve + `
  -- The stored values were read before the kind rules; only items
  -- they moved to their claim's kinded field are read again.
  local olds = pre
  local mf = {}
  for j, i in ipairs(moved) do mf[j] = fields[i] end
  for s = 1, #mf, chunk do
    local part = redis.call('HMGET', hkey, unpack(mf, s, math.min(s + chunk - 1, #mf)))
    for k = 1, #part do olds[moved[s + k - 1]] = part[k] end
  end
  local hset, latest, delta, out = {}, {}, {R = 0, N = 0, D = 0}, {}
  for i = 1, n do
    local field, value = fields[i], vals[i]
    local old = latest[field] or olds[i]
    local res = 'a'
    local nstate = stateName[byte(value, 72)]
    if old and byte(old, 73) == 10 then
      local nu, ou = sub(value, 40, 55), sub(old, 40, 55)
      if nu ~= noUID and ou ~= noUID and nu ~= ou then
        res = 'a'
      elseif sub(value, 1, 39) < sub(old, 1, 39) then
        res = 's'
      elseif sub(value, 56, 71) == sub(old, 56, 71) then
        res = 'u'
      end
      local ostate = stateName[byte(old, 72)]
      if res == 'a' and ostate ~= nstate then
        delta[ostate] = delta[ostate] - 1
        delta[nstate] = delta[nstate] + 1
      end
    else
      delta[nstate] = delta[nstate] + 1
    end
    if res ~= 's' then
      latest[field] = value
      hset[#hset + 1] = field
      hset[#hset + 1] = value
    end
    if res == 'a' then changed = true end
    out[i] = res
  end
` + kindsDrop + `
  -- Claim limit: count the fields this group adds, against HLEN, before
  -- any write, so a refused batch leaves nothing behind. Once an item is
  -- ambiguous the call writes nothing and answers that instead (an
  -- ambiguous item is no new claim; the other writes are sent again).
  local maxClaims = tonumber(ARGV[#ARGV])
  if maxClaims > 0 and #amb == 0 then
    local new, seen = 0, {}
    for i = 1, n do
      if not olds[i] and not seen[fields[i]] then seen[fields[i]] = true new = new + 1 end
    end
    -- A kind-less record a kinded one supersedes leaves the hash (dels).
    new = new - #dels
    local held = new > 0 and redis.call('HLEN', hkey) or 0
    if held + new > maxClaims then
      return redis.error_reply('CLAIMLIMIT ' .. cluster .. ' ' .. held .. ' ' .. new .. ' ' .. maxClaims)
    end
  end
  pending[gi] = {hkey, ckey, cluster, hset, delta, table.concat(out), xkey, xset, dels}
  a = a + 2 * n
end
if #amb > 0 then return {'', 0, amb} end
redis.call('SET', KEYS[3 + 2 * groups], now, 'NX')
local codes = {}
for _, p in ipairs(pending) do
  redis.call('HSET', KEYS[2], p[3], now)
  local hset = p[4]
  for s = 1, #hset, 2 * chunk do
    redis.call('HSET', p[1], unpack(hset, s, math.min(s + 2 * chunk - 1, #hset)))
  end
` + kindsWrite + `
  for st, d in pairs(p[5]) do
    if d ~= 0 then redis.call('HINCRBY', p[2], st, d) end
  end
  codes[#codes + 1] = p[6]
end
local g
if changed then
  g = redis.call('INCR', KEYS[1])
else
  g = tonumber(redis.call('GET', KEYS[1]) or '0')
end
return {table.concat(codes), g}
`)

// Apply stores records that have passed status.Record.Normalize, in one
// atomic script call: newer wins, a new uid replaces, identical content is
// unchanged, and the generation moves only when something was accepted.
// receivedAt marks every cluster in the batch as seen. Outcomes come back
// in the order of records.
//
// Concurrent calls share script calls (see commit.go): records are
// encoded here, in the caller's goroutine, and a record that cannot be
// encoded fails only its own call.
func (s *Store) Apply(ctx context.Context, receivedAt string, records []status.Record) (Result, error) {
	if len(records) == 0 {
		return Result{}, nil
	}
	w := &write{receivedAt: receivedAt, items: make([]item, len(records))}
	// One buffer holds every encoded value; the items are slices of it.
	buf := make([]byte, 0, len(records)*512)
	for i := range records {
		r := &records[i]
		start := len(buf)
		var err error
		if buf, err = encodeValue(buf, r, r.ObservedTime()); err != nil {
			return Result{}, fmt.Errorf("encode %s/%s: %w", r.Cluster, r.Key(), err)
		}
		w.items[i] = item{cluster: r.Cluster, key: r.Key(), value: buf[start:len(buf):len(buf)]}
	}
	err := s.commit.do(ctx, w, s.send)
	var amb *AmbiguousKindError
	if err == nil && errors.As(w.err, &amb) {
		// Bad input, not a store failure: the error names the item alone.
		return Result{}, w.err
	}
	if err == nil {
		err = w.err
	}
	if err != nil {
		return Result{}, fmt.Errorf("store %d records: %w", len(records), err)
	}
	return w.res, nil
}

// item is one encoded record.
type item struct {
	cluster, key string
	value        []byte
}

// write is one Apply call: its encoded records and, once sent, its result.
type write struct {
	receivedAt string
	items      []item
	res        Result
	err        error // this write alone failed: refused (*AmbiguousKindError), or its merged call was split
}

// send applies writes in one script call. When the claim limit refuses a
// merged call, each write is sent again alone, so only the writes of the
// cluster over the limit fail (nothing was written by the refused call).
func (s *Store) send(ctx context.Context, writes []*write) error {
	err := s.sendOnce(ctx, writes)
	var limit *ClaimLimitError
	if len(writes) < 2 || !errors.As(err, &limit) {
		return err
	}
	for _, w := range writes {
		if err := s.sendOnce(ctx, []*write{w}); err != nil {
			w.err = err
		}
	}
	return nil
}

// sendOnce applies writes in one script call and fills in each write's result.
// Items are grouped by cluster, keeping their order within a group, which
// is also the order newer-wins sees duplicates in.
func (s *Store) sendOnce(ctx context.Context, writes []*write) error {
	type ref = struct{ w, i int }
	groups := map[string][]ref{}
	var clusters []string
	n := 0
	for wi, w := range writes {
		for i := range w.items {
			c := w.items[i].cluster
			if _, ok := groups[c]; !ok {
				clusters = append(clusters, c)
			}
			groups[c] = append(groups[c], ref{wi, i})
		}
		n += len(w.items)
	}
	keys := make([]string, 0, 3+2*len(clusters))
	keys = append(keys, s.k.generation(), s.k.clusters())
	args := make([]any, 0, 2+2*len(clusters)+2*n)
	// Writes queue in arrival order, so the last one saw the latest time.
	args = append(args, writes[len(writes)-1].receivedAt, len(clusters))
	order := make([]ref, 0, n)
	for _, c := range clusters {
		keys = append(keys, s.k.claims(c), s.k.counts(c))
		args = append(args, c, len(groups[c]))
		for _, r := range groups[c] {
			it := &writes[r.w].items[r.i]
			args = append(args, it.key, it.value)
			order = append(order, r)
		}
	}
	keys = append(keys, s.k.since())
	for _, c := range clusters {
		keys = append(keys, s.k.kinds(c))
	}
	args = append(args, s.claimLimit.Load())
	reply, err := applyScript.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return scriptError(err)
	}
	if len(reply) == 3 {
		return s.refuseAmbiguous(ctx, writes, order, reply[2])
	}
	codes, gen, err := parseApplyReply(reply, n)
	if err != nil {
		return err
	}
	for _, w := range writes {
		w.res = Result{Outcomes: make([]Outcome, len(w.items)), Generation: gen}
	}
	for j, r := range order {
		res := &writes[r.w].res
		o := Outcome(codes[j])
		res.Outcomes[r.i] = o
		switch o {
		case Accepted:
			res.Accepted++
		case Unchanged:
			res.Unchanged++
		case Stale:
			res.Stale++
		}
	}
	return nil
}

// refuseAmbiguous fails the writes holding an ambiguous kind-less item
// (the script wrote nothing) and sends the others again: a merged call
// must not fail a write for another's mistake.
func (s *Store) refuseAmbiguous(ctx context.Context, writes []*write, order []struct{ w, i int }, v any) error {
	amb, err := parseAmbiguous(v)
	if err != nil {
		return err
	}
	for j, kinds := range amb {
		if j < 0 || j >= len(order) {
			return fmt.Errorf("ambiguity reply names item %d of %d", j+1, len(order))
		}
		w := writes[order[j].w]
		it := &w.items[order[j].i]
		if e, ok := w.err.(*AmbiguousKindError); !ok || order[j].i < e.Index {
			w.err = &AmbiguousKindError{Index: order[j].i, Cluster: it.cluster, ClaimRef: it.key, Kinds: kinds}
		}
	}
	rest := writes[:0:0]
	for _, w := range writes {
		if w.err == nil {
			rest = append(rest, w)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	return s.send(ctx, rest)
}

// parseApplyReply checks the script's reply for n records and returns its
// outcome letters and the generation.
func parseApplyReply(reply []any, n int) (string, int64, error) {
	if len(reply) != 2 {
		return "", 0, fmt.Errorf("unexpected script reply of %d values", len(reply))
	}
	codes, _ := reply[0].(string)
	gen, _ := reply[1].(int64)
	if len(codes) != n {
		return "", 0, fmt.Errorf("script answered %d outcomes for %d records", len(codes), n)
	}
	return codes, gen, nil
}

// noUID stands in the header for a record without uid.
const noUID = "0000000000000000"

// encodeValue appends the stored form of r: a fixed-width header line, then
// the JSON record. The header is 72 bytes and a newline:
//
//	[0,39)  order: seconds (11 digits), nanoseconds (9), generation (19),
//	        zero-padded so string comparison is time-then-generation order
//	[39,55) FNV-64a of the uid in hex, or noUID
//	[55,71) content hash in hex (contentHash)
//	[71]    state: R ready, N not ready, D deleted
func encodeValue(dst []byte, r *status.Record, observed time.Time) ([]byte, error) {
	if observed.Unix() < 0 || r.Generation < 0 {
		return nil, fmt.Errorf("observedAt before 1970 or negative generation")
	}
	dst = appendPadded(dst, uint64(observed.Unix()), 10, 11)
	dst = appendPadded(dst, uint64(observed.Nanosecond()), 10, 9)
	dst = appendPadded(dst, uint64(r.Generation), 10, 19)
	if r.UID == "" {
		dst = append(dst, noUID...)
	} else {
		h := fnv.New64a()
		h.Write([]byte(r.UID))
		dst = appendPadded(dst, h.Sum64()|1, 16, 16) // |1: never equal to noUID
	}
	dst = appendPadded(dst, contentHash(r), 16, 16)
	dst = append(dst, r.State(), '\n')
	return r.AppendJSON(dst), nil
}

// appendPadded appends v in base with leading zeros to width digits.
func appendPadded(dst []byte, v uint64, base, width int) []byte {
	var tmp [24]byte
	b := strconv.AppendUint(tmp[:0], v, base)
	for i := len(b); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
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

// script is a Lua script with its source kept for tests.
type script struct {
	*redis.Script
	Src string
}

func newScript(src string) script { return script{redis.NewScript(src), src} }
