package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// One claim in one cluster is one record. A seed-style post carries no
// kind, the agent's posts do, and the hash field of a record is its
// claimRef, plus "#kind" when it has one (status.Record.Key). So that a
// kind-less post and the agent's kinded one do not live side by side,
// the apply script keeps a per-cluster index, {msc}:kinds:<cluster>, from
// claimRef to the kinds stored under it ("-" for the kind-less record),
// and in the same atomic call:
//
//   - a kinded record supersedes the kind-less one of its claimRef (which
//     is deleted, counts adjusted);
//   - a kind-less update for a claimRef with exactly one kinded record is
//     applied to that record (its kind written into the stored JSON),
//     newer-wins as usual;
//   - a kind-less update for a claimRef with several kinds is refused:
//     the script answers the ambiguous items and writes nothing.
//
// Data written before the index existed: the first call that touches a
// cluster whose index lacks the marker field "" reads the cluster's field
// names once (HKEYS, bounded by that cluster's claims), builds its index
// and drops the kind-less records a kinded one supersedes. No separate
// migration step is needed; until a cluster's first write the reconcile
// is protected by the registry, which also ignores a kind-less record
// beside kinded ones of the same claim.
//
// The fragments below are spliced into applyScript.

// kindsPrelude defines helpers and the list of ambiguous items.
const kindsPrelude = `
local function refKind(f)
  local h = string.find(f, '#', 1, true)
  if h then return sub(f, 1, h - 1), sub(f, h + 1) end
  return f, nil
end
local function jsonEsc(k)
  return (string.gsub(k, '[%z\1-\31"\\]', function(c) return string.format('\\u%04x', byte(c)) end))
end
local function kindsOf(v)
  local e = {kinds = {}}
  if v then
    for tok in string.gmatch(v, '%S+') do
      if tok == '-' then e.less = true else e.kinds[#e.kinds + 1] = tok end
    end
  end
  return e
end
local amb, ai = {}, 0`

// kindsResolve loads the group's index entries (building the index on a
// cluster's first touch), then rewrites fields and values in item order:
// kind-less items go to their claim's only kind; ambiguous ones are listed.
const kindsResolve = `
  local xkey = KEYS[3 + 2 * groups + gi]
  local vals, refs, kinds, idx, dirty, drop, moved = {}, {}, {}, {}, {}, {}, {}
  local pre = {}
  for s = 1, n, chunk do
    local part = redis.call('HMGET', hkey, unpack(fields, s, math.min(s + chunk - 1, n)))
    for k = 1, #part do pre[s + k - 1] = part[k] end
  end
  for i = 1, n do
    vals[i] = ARGV[a + 2 * i - 1]
    refs[i], kinds[i] = refKind(fields[i])
  end
  local build = redis.call('HEXISTS', xkey, '') == 0
  if build then
    for _, f in ipairs(redis.call('HKEYS', hkey)) do
      local r, k = refKind(f)
      local e = idx[r] or {kinds = {}}
      idx[r] = e
      if k then e.kinds[#e.kinds + 1] = k else e.less = true end
      dirty[r] = true
    end
    for r, e in pairs(idx) do
      if e.less and #e.kinds > 0 then e.less = nil drop[r] = true end
    end
  else
    local uniq = {}
    for i = 1, n do
      local r = refs[i]
      if (not kinds[i] or not pre[i]) and not idx[r] then idx[r] = true uniq[#uniq + 1] = r end
    end
    for s = 1, #uniq, chunk do
      local part = redis.call('HMGET', xkey, unpack(uniq, s, math.min(s + chunk - 1, #uniq)))
      for k = 1, #part do idx[uniq[s + k - 1]] = kindsOf(part[k]) end
    end
  end
  for i = 1, n do
    ai = ai + 1
    local r, k = refs[i], kinds[i]
    local e = idx[r] or {kinds = {}}
    if k and pre[i] and not build then
      -- Stored already: its kind is indexed, and no kind-less record of
      -- its claim exists (a kinded one supersedes it on arrival).
    elseif k then
      idx[r] = e
      local known = false
      for _, x in ipairs(e.kinds) do if x == k then known = true end end
      if not known then e.kinds[#e.kinds + 1] = k dirty[r] = true end
      if e.less then e.less = nil drop[r] = true dirty[r] = true end
    elseif #e.kinds == 1 then
      local v = vals[i]
      local p = string.find(v, ',"claimRef":"', 74, true)
      local q = string.find(v, '"', p + 13, true)
      idx[r] = e
      fields[i] = r .. '#' .. e.kinds[1]
      moved[#moved + 1] = i
      vals[i] = sub(v, 1, q) .. ',"kind":"' .. jsonEsc(e.kinds[1]) .. '"' .. sub(v, q + 1)
    elseif #e.kinds > 1 then
      idx[r] = e
      amb[#amb + 1] = ai .. ' ' .. table.concat(e.kinds, ' ')
    elseif not e.less then
      idx[r] = e
      e.less = true
      dirty[r] = true
    end
  end`

// kindsDrop removes superseded kind-less records from the group's writes
// and counts, and lists the index entries to write.
const kindsDrop = `
  local need, stored, dels = {}, {}, {}
  for r in pairs(drop) do if not latest[r] then need[#need + 1] = r end end
  for s = 1, #need, chunk do
    local part = redis.call('HMGET', hkey, unpack(need, s, math.min(s + chunk - 1, #need)))
    for k = 1, #part do stored[need[s + k - 1]] = part[k] end
  end
  for r in pairs(drop) do
    local v = latest[r] or stored[r]
    if v then
      local st = stateName[byte(v, 72)]
      delta[st] = delta[st] - 1
      dels[#dels + 1] = r
      changed = true
    end
  end
  if next(drop) then
    local kept = {}
    for j = 1, #hset, 2 do
      if not drop[hset[j]] then kept[#kept + 1] = hset[j] kept[#kept + 1] = hset[j + 1] end
    end
    hset = kept
  end
  local xset = {}
  if build then xset[1] = '' xset[2] = '1' end
  for r in pairs(dirty) do
    local e = idx[r]
    local t = table.concat(e.kinds, ' ')
    if e.less then t = '- ' .. t end
    xset[#xset + 1] = r
    xset[#xset + 1] = t
  end`

// kindsWrite deletes the superseded records and writes the index.
const kindsWrite = `
  local dels, xset = p[9], p[8]
  for s = 1, #dels, chunk do
    redis.call('HDEL', p[1], unpack(dels, s, math.min(s + chunk - 1, #dels)))
  end
  for s = 1, #xset, 2 * chunk do
    redis.call('HSET', p[7], unpack(xset, s, math.min(s + 2 * chunk - 1, #xset)))
  end`

// contentHash is status.Record.ContentHash without the kind: the kind is
// in the record's field name already, and a kind-less update the script
// applies to a kinded record must compare equal when nothing else moved.
// (Records stored before this rule have the kind in their hash, so their
// first update after the upgrade is accepted once.)
func contentHash(r *status.Record) uint64 {
	c := *r
	c.Kind = ""
	return c.ContentHash()
}

// AmbiguousKindError refuses a kind-less update for a claim that has
// records of several kinds in its cluster: which one it means is a guess.
// Index is the record's position in the records given to Apply.
type AmbiguousKindError struct {
	Index             int
	Cluster, ClaimRef string
	Kinds             []string
}

// Error names the field, the claim and the kinds it could mean.
func (e *AmbiguousKindError) Error() string {
	return fmt.Sprintf("kind: required: claim %s in cluster %s has records of several kinds (%s)", e.ClaimRef, e.Cluster, strings.Join(e.Kinds, ", "))
}

// parseAmbiguous reads the script's list of ambiguous items: "j kind..."
// with j the 1-based position in argument order.
func parseAmbiguous(v any) (map[int][]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected ambiguity reply %T", v)
	}
	out := make(map[int][]string, len(list))
	for _, x := range list {
		s, _ := x.(string)
		f := strings.Fields(s)
		if len(f) < 3 {
			return nil, fmt.Errorf("unexpected ambiguity reply %q", s)
		}
		j, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("unexpected ambiguity reply %q", s)
		}
		out[j-1] = f[1:]
	}
	return out, nil
}
