package store

import (
	"container/heap"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// MaxQueryLimit bounds a page of Query: the records it holds at once.
const MaxQueryLimit = 500

// Bounds of one queryScript call: HSCAN steps with this COUNT hint, until
// scanBudget entries were scanned or scanMatches matched. A reply then
// holds at most about scanMatches+scanChunk entries (each at most a header
// and a 4 KiB message: under 10 MB; typically a few hundred KB), and one
// call blocks Redis for a few milliseconds.
const (
	scanChunk   = 1000
	scanBudget  = 5000
	scanMatches = 1000
)

// queryWorkers bounds the clusters scanned at once by one Query: Redis
// runs the scans one after another, but their round trips and the
// decoding overlap.
const queryWorkers = 4

// Query selects records for a page, newest change first (see Since).
// Zero fields match everything.
type Query struct {
	// State is 'N' (not ready), 'R' (ready), 'D' (deleted) or 0 for any:
	// the letter status.Record.State gives.
	State byte
	// Cluster restricts the scan to one cluster.
	Cluster string
	// Kind matches the record's kind exactly (Kind.group).
	Kind string
	// Text matches, ignoring case, a substring of the cluster, claimRef,
	// kind, reason or status message.
	Text string
	// Limit is the page size, 1..MaxQueryLimit.
	Limit int
	// After is the Next of the previous page, "" for the first page.
	After string
}

// Page is one page of a Query.
type Page struct {
	Items []status.Record
	// Total counts every record matching the query's filters, on all
	// pages. A record Redis moves while it rehashes may be counted twice.
	Total int
	// Next is the After of the following page, "" on the last page.
	Next string
}

// Since is when r's current status began: its Ready condition's
// lastTransitionTime, else when it was observed.
func Since(r *status.Record) time.Time {
	if r.LastTransitionTime != "" {
		if t, err := time.Parse(time.RFC3339Nano, r.LastTransitionTime); err == nil {
			return t
		}
	}
	return r.ObservedTime()
}

// queryScript runs a few HSCAN steps over a claims hash and returns only the
// entries the filters may match, so a page over a large fleet moves only
// candidates out of Redis. Its state and kind checks are exact and Query
// relies on them; its text check is a prefilter (plain ASCII only, see
// plainASCII) that Query repeats exactly on the decoded record.
//
// Without values (no text filter) it also drops the matches whose since
// lies outside [lo, hi] (the page's current last entry and the cursor),
// and returns each candidate's field, header time and lastTransitionTime
// instead of its value: a reply is a few KB, and only the page's records
// are ever read whole (see Query). Since is compared as a string: the
// header's 20 time digits against loHdr/hiHdr, a lastTransitionTime (UTC,
// as status.Record.Normalize stores it) as its first 19 bytes and its
// fraction padded to 9 digits against loDate/hiDate (see sinceBounds); one
// in another form is always a candidate. An empty bound is no bound.
//
// KEYS: claims hash. ARGV: cursor, COUNT of each step, entries to scan
// at most, candidates to collect at most, state letter or "", "#kind" or
// "", lower-case ASCII text or "", "1" to return values, loHdr, hiHdr,
// loDate, hiDate. Reply: next cursor, matches found (before the since
// bounds), matches dropped as older than lo, then per candidate its field
// and value when values are asked for (the bounds are ignored then), else
// its field, header time (20 digits) and lastTransitionTime or "". The state
// letter is byte 72 of the value's header (encodeValue); the text is
// searched in the value after the header, lower-cased.
var queryScript = newScript(`
local cursor, count, budget, most = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local state, kind, text, values = ARGV[5], ARGV[6], ARGV[7], ARGV[8] == '1'
local loH, hiH, loD, hiD = ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local sub, lower, find, byte, match, rep = string.sub, string.lower, string.find, string.byte, string.match, string.rep
local letter = byte(state) -- nil for any state
local key = ',"lastTransitionTime":"'
local out, scanned, matched, below, held = {'', 0, 0}, 0, 0, 0, 0
repeat
  local r = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', count)
  cursor = r[1]
  local kv = r[2]
  scanned = scanned + #kv / 2
  for i = 1, #kv, 2 do
    local f, v = kv[i], kv[i + 1]
    if (not letter or byte(v, 72) == letter)
      and (kind == '' or sub(f, -#kind) == kind)
      and (text == '' or find(lower(sub(v, 74)), text, 1, true)) then
      matched = matched + 1
      if values then
        out[#out + 1] = f
        out[#out + 1] = v
        held = held + 1
      else
        local hdr, ltt = sub(v, 1, 20), ''
        local _, e = find(v, key, 74, true)
        if e then ltt = sub(v, e + 1, (find(v, '"', e + 1, true) or 0) - 1) end
        local t, lo, hi = hdr, loH, hiH
        if ltt ~= '' then
          local d, frac = match(ltt, '^(%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d)%.?(%d*)Z$')
          if d and #frac <= 9 then
            t, lo, hi = d .. frac .. rep('0', 9 - #frac), loD, hiD
          else
            lo, hi = '', ''
          end
        end
        if (lo == '' or t >= lo) and (hi == '' or t <= hi) then
          out[#out + 1] = f
          out[#out + 1] = hdr
          out[#out + 1] = ltt
          held = held + 1
        elseif lo ~= '' and t < lo then
          below = below + 1
        end
      end
    end
  end
until cursor == '0' or scanned >= budget or held >= most
out[1], out[2], out[3] = cursor, matched, below
return out
`)

// Query returns one page of the records matching q, newest Since first,
// then by cluster and key. It scans the clusters' hashes (queryWorkers at
// a time) in queryScript calls and keeps only the best q.Limit positions
// in a heap, so its memory is bounded by q.Limit records plus queryWorkers
// replies, whatever the fleet's size; its time grows with the fleet (one
// pass per page). Without a text filter, the script returns only
// positions that may still make the page, and the page's values are read
// at the end with one HMGET per cluster: a record that changed in between
// shows its newer value, and one that no longer matches is left out.
func (s *Store) Query(ctx context.Context, q Query) (Page, error) {
	if q.Limit < 1 || q.Limit > MaxQueryLimit {
		return Page{}, fmt.Errorf("limit %d must be between 1 and %d", q.Limit, MaxQueryLimit)
	}
	var after *position
	if q.After != "" {
		p, err := decodePosition(q.After)
		if err != nil {
			return Page{}, err
		}
		after = &p
	}
	clusters := []string{q.Cluster}
	if q.Cluster == "" {
		var err error
		if clusters, err = s.Clusters(ctx); err != nil {
			return Page{}, err
		}
	}
	m := newMatcher(q)
	top := newTopK(q.Limit)
	var (
		page  Page
		mu    sync.Mutex // guards top, page.Total and first
		first error
		wg    sync.WaitGroup
		work  = make(chan string)
	)
	// bounds is the since range a record must fall in to make the page:
	// at or before the cursor, at or after the page's last entry.
	bounds := func() sinceRange {
		mu.Lock()
		defer mu.Unlock()
		r := sinceRange{hi: none}
		if after != nil {
			r.hi = after.since
		}
		r.lo = none
		if len(top.h) == top.k {
			r.lo = top.h[0].pos.since
		}
		return r
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(queryWorkers, len(clusters)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				err := s.scanCluster(ctx, c, &m, bounds, func(matched int, dropped bool, found []entry) {
					mu.Lock()
					defer mu.Unlock()
					page.Total += matched
					top.more = top.more || dropped
					for _, e := range found {
						if after == nil || after.before(e.pos) {
							top.offer(e)
						}
					}
				})
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
				}
			}
		}()
	}
	for _, c := range clusters {
		if ctx.Err() != nil {
			break
		}
		work <- c
	}
	close(work)
	wg.Wait()
	if first != nil {
		return Page{}, first
	}
	entries, more := top.sorted()
	if err := s.fillValues(ctx, entries); err != nil {
		return Page{}, err
	}
	page.Items = make([]status.Record, 0, len(entries))
	for i := range entries {
		if entries[i].value == "" {
			continue // gone since the scan
		}
		r, err := decodeValue(entries[i].value)
		if err != nil {
			return Page{}, fmt.Errorf("decode record %s of cluster %s: %w", entries[i].pos.key, entries[i].pos.cluster, err)
		}
		if m.q.State != 0 && r.State() != m.q.State {
			continue // changed since the scan
		}
		page.Items = append(page.Items, r)
	}
	if more {
		page.Next = entries[len(entries)-1].pos.encode()
	}
	return page, nil
}

// fillValues reads the values of the entries the scan returned without
// one, with one HMGET per cluster in a pipeline; a missing field leaves
// the value "".
func (s *Store) fillValues(ctx context.Context, entries []entry) error {
	byCluster := map[string][]int{}
	for i := range entries {
		if entries[i].value == "" {
			c := entries[i].pos.cluster
			byCluster[c] = append(byCluster[c], i)
		}
	}
	if len(byCluster) == 0 {
		return nil
	}
	cmds := map[string]*redis.SliceCmd{}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for c, idx := range byCluster {
			fields := make([]string, len(idx))
			for j, i := range idx {
				fields[j] = entries[i].pos.key
			}
			cmds[c] = p.HMGet(ctx, s.k.claims(c), fields...)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the page's records: %w", err)
	}
	for c, idx := range byCluster {
		for j, v := range cmds[c].Val() {
			entries[idx[j]].value, _ = v.(string)
		}
	}
	return nil
}

// none marks a missing since bound.
const none = math.MinInt64

// sinceRange is the since range a record must fall in to make a page;
// none for a missing bound.
type sinceRange struct{ lo, hi int64 }

// args are queryScript's bounds: loHdr, hiHdr, loDate, hiDate. A bound
// the script's string forms cannot hold exactly is dropped: the script
// then returns more candidates, never fewer.
func (r sinceRange) args() [4]string {
	hdr := func(ns int64) string {
		if ns == none || ns < 0 || ns/1e9 > 99_999_999_999 {
			return ""
		}
		return fmt.Sprintf("%011d%09d", ns/1e9, ns%1e9)
	}
	date := func(ns int64) string {
		if ns == none {
			return ""
		}
		t := time.Unix(0, ns).UTC()
		if t.Year() < 0 || t.Year() > 9999 {
			return ""
		}
		return t.Format("2006-01-02T15:04:05") + fmt.Sprintf("%09d", t.Nanosecond())
	}
	return [4]string{hdr(r.lo), hdr(r.hi), date(r.lo), date(r.hi)}
}

// scanCluster runs queryScript over one cluster's claims and calls found
// with the matches of each call and the entries that match m and may make
// the page (within bounds() at the call), and whether the script dropped
// a match as older than the page's last entry; an entry's value is "" when the
// script did not return it.
func (s *Store) scanCluster(ctx context.Context, c string, m *matcher, bounds func() sinceRange, found func(int, bool, []entry)) error {
	cursor := "0"
	values := m.text != ""
	for {
		b := [4]string{}
		if !values { // with a text filter Go counts the matches, so it sees them all
			b = bounds().args()
		}
		flag := ""
		if values {
			flag = "1"
		}
		reply, err := queryScript.Run(ctx, s.rdb, []string{s.k.claims(c)}, cursor, scanChunk, scanBudget, scanMatches,
			m.state, m.kindSuffix, m.prefilter, flag, b[0], b[1], b[2], b[3]).Slice()
		if err != nil {
			return fmt.Errorf("scan claims of cluster %s: %w", c, err)
		}
		next, matched, below, cands, err := parseScanReply(reply, values)
		if err != nil {
			return fmt.Errorf("scan claims of cluster %s: %w", c, err)
		}
		if values {
			matched = 0
		}
		var out []entry
		for _, cd := range cands {
			var since int64
			if values {
				r, err := decodeValue(cd.value)
				if err != nil {
					return fmt.Errorf("decode record %s of cluster %s: %w", cd.field, c, err)
				}
				if !m.matchText(&r) {
					continue
				}
				matched++
				since = Since(&r).UnixNano()
			} else if since, err = sinceFrom(cd.header, cd.ltt); err != nil {
				return fmt.Errorf("decode record %s of cluster %s: %w", cd.field, c, err)
			}
			out = append(out, entry{pos: position{since: since, cluster: c, key: cd.field}, value: cd.value})
		}
		found(matched, below > 0, out)
		if cursor = next; cursor == "0" {
			return nil
		}
	}
}

// candidate is one record queryScript returned.
type candidate struct{ field, header, ltt, value string }

// parseScanReply splits queryScript's reply into the next cursor, the
// matches counted, those dropped as too old and the candidates.
func parseScanReply(reply []any, values bool) (next string, matched, below int, cands []candidate, err error) {
	per := 3
	if values {
		per = 2
	}
	if len(reply) < 3 || (len(reply)-3)%per != 0 {
		return "", 0, 0, nil, fmt.Errorf("unexpected scan reply of %d values", len(reply))
	}
	next, _ = reply[0].(string)
	m, _ := reply[1].(int64)
	b, _ := reply[2].(int64)
	str := func(v any) string { s, _ := v.(string); return s }
	cands = make([]candidate, 0, (len(reply)-3)/per)
	for i := 3; i < len(reply); i += per {
		cd := candidate{field: str(reply[i])}
		if values {
			cd.value = str(reply[i+1])
		} else {
			cd.header, cd.ltt = str(reply[i+1]), str(reply[i+2])
		}
		cands = append(cands, cd)
	}
	return next, int(m), int(b), cands, nil
}

// matcher checks a decoded record against a query's filters and holds the
// script's prefilter arguments.
type matcher struct {
	q                            Query
	text                         string // q.Text lower-cased
	state, kindSuffix, prefilter string
}

func newMatcher(q Query) matcher {
	m := matcher{q: q, text: strings.ToLower(q.Text)}
	if q.State != 0 {
		m.state = string(q.State)
	}
	if q.Kind != "" {
		m.kindSuffix = "#" + q.Kind
	}
	if plainASCII(q.Text) {
		m.prefilter = m.text
	}
	return m
}

// plainASCII reports whether s is printable ASCII that JSON stores
// unescaped, so a substring search of the stored JSON finds every record
// whose fields contain s. Other text is matched in Go only.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// sinceFrom is Since of a stored value from its header's 20 time digits
// and its lastTransitionTime ("" when it has none).
func sinceFrom(header, ltt string) (int64, error) {
	if ltt != "" {
		if t, err := time.Parse(time.RFC3339Nano, ltt); err == nil {
			return t.UnixNano(), nil
		}
	}
	if len(header) < 20 {
		return 0, fmt.Errorf("stored value has no header line")
	}
	sec, err1 := strconv.ParseInt(header[:11], 10, 64)
	nsec, err2 := strconv.ParseInt(header[11:20], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stored value has a malformed header")
	}
	return sec*1e9 + nsec, nil
}

// matchText reports whether r's cluster, claimRef, kind, reason or
// message contains the query's text, ignoring case.
func (m *matcher) matchText(r *status.Record) bool {
	for _, f := range []string{r.Cluster, r.ClaimRef, r.Kind, r.Reason, r.StatusMessage} {
		if strings.Contains(strings.ToLower(f), m.text) {
			return true
		}
	}
	return false
}

// position is a record's place in the page order: newer since first, then
// cluster, then key.
type position struct {
	since        int64
	cluster, key string
}

// before reports whether p comes before o in the page order.
func (p position) before(o position) bool {
	if p.since != o.since {
		return p.since > o.since
	}
	if p.cluster != o.cluster {
		return p.cluster < o.cluster
	}
	return p.key < o.key
}

// encode is the position as an opaque cursor.
func (p position) encode() string {
	raw := strconv.FormatInt(p.since, 10) + "\x00" + p.cluster + "\x00" + p.key
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ErrBadCursor is returned for an After that no Page produced.
var ErrBadCursor = errors.New("cursor: not a cursor this API returned")

func decodePosition(s string) (position, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return position{}, ErrBadCursor
	}
	parts := strings.SplitN(string(raw), "\x00", 3)
	if len(parts) != 3 {
		return position{}, ErrBadCursor
	}
	since, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return position{}, ErrBadCursor
	}
	return position{since: since, cluster: parts[1], key: parts[2]}, nil
}

// entry is a record held for the page: its stored value, decoded only
// when the page is complete.
type entry struct {
	pos   position
	value string
}

// topK keeps the first k entries in page order among those offered, and
// whether any was left out. It never holds more than k entries; a second
// copy of a held record (HSCAN may return one twice) is dropped.
type topK struct {
	k    int
	h    entryHeap
	held map[[2]string]bool
	more bool
}

func newTopK(k int) *topK {
	return &topK{k: k, held: make(map[[2]string]bool, k)}
}

// offer adds e when it belongs among the first k.
func (t *topK) offer(e entry) {
	id := [2]string{e.pos.cluster, e.pos.key}
	if t.held[id] {
		return
	}
	if len(t.h) < t.k {
		heap.Push(&t.h, e)
		t.held[id] = true
		return
	}
	t.more = true
	if !e.pos.before(t.h[0].pos) {
		return
	}
	delete(t.held, [2]string{t.h[0].pos.cluster, t.h[0].pos.key})
	t.h[0] = e
	t.held[id] = true
	heap.Fix(&t.h, 0)
}

// sorted empties t and returns its entries in page order, and whether
// entries were left out.
func (t *topK) sorted() ([]entry, bool) {
	out := make([]entry, len(t.h))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&t.h).(entry)
	}
	clear(t.held)
	return out, t.more
}

// entryHeap is a heap whose root is the last entry in page order, the
// first to go when a better one arrives.
type entryHeap []entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[j].pos.before(h[i].pos) }
func (h entryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// ClusterSummary is Summaries for one cluster; ok is false when the
// cluster never sent anything.
func (s *Store) ClusterSummary(ctx context.Context, cluster string) (sum Summary, ok bool, err error) {
	var seen *redis.StringCmd
	var counts *redis.MapStringStringCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		seen = p.HGet(ctx, s.k.clusters(), cluster)
		counts = p.HGetAll(ctx, s.k.counts(cluster))
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return Summary{}, false, nil
	}
	if err != nil {
		return Summary{}, false, fmt.Errorf("read cluster %s: %w", cluster, err)
	}
	m := counts.Val()
	return Summary{Cluster: cluster, LastSeen: seen.Val(), Ready: atoi(m["R"]), NotReady: atoi(m["N"]), Deleted: atoi(m["D"])}, true, nil
}
