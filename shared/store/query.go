package store

import (
	"container/heap"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
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
// KEYS: claims hash. ARGV: cursor, COUNT of each step, entries to scan
// at most, matches to collect at most, state letter or "", "#kind" or "",
// lower-case ASCII text or "". Reply: next cursor, then field/value
// pairs. The state letter is byte 72 of the value's header (encodeValue);
// the text is searched in the value after the header, lower-cased.
var queryScript = newScript(`
local cursor, count, budget, most = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local state, kind, text = ARGV[5], ARGV[6], ARGV[7]
local sub, lower, find, byte = string.sub, string.lower, string.find, string.byte
local letter = byte(state) -- nil for any state
local out, scanned = {''}, 0
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
      out[#out + 1] = f
      out[#out + 1] = v
    end
  end
until cursor == '0' or scanned >= budget or #out > 2 * most
out[1] = cursor
return out
`)

// Query returns one page of the records matching q, newest Since first,
// then by cluster and key. It scans the clusters' hashes (queryWorkers at
// a time) in queryScript calls and keeps only the best q.Limit records in
// a heap, so its memory is bounded by q.Limit records plus queryWorkers
// replies, whatever the fleet's size; its time grows with the fleet (one
// pass per page).
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(queryWorkers, len(clusters)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				err := s.scanCluster(ctx, c, &m, func(p position, value string) {
					mu.Lock()
					defer mu.Unlock()
					page.Total++
					if after == nil || after.before(p) {
						top.offer(entry{pos: p, value: value})
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
	page.Items = make([]status.Record, len(entries))
	for i := range entries {
		r, err := decodeValue(entries[i].value)
		if err != nil {
			return Page{}, fmt.Errorf("decode record %s of cluster %s: %w", entries[i].pos.key, entries[i].pos.cluster, err)
		}
		page.Items[i] = r
	}
	if more {
		page.Next = entries[len(entries)-1].pos.encode()
	}
	return page, nil
}

// scanCluster runs queryScript over one cluster's claims and calls found
// for every record that matches m.
func (s *Store) scanCluster(ctx context.Context, c string, m *matcher, found func(position, string)) error {
	cursor := "0"
	for {
		reply, err := queryScript.Run(ctx, s.rdb, []string{s.k.claims(c)}, cursor, scanChunk, scanBudget, scanMatches, m.state, m.kindSuffix, m.prefilter).Slice()
		if err != nil {
			return fmt.Errorf("scan claims of cluster %s: %w", c, err)
		}
		next, pairs, err := parseScanReply(reply)
		if err != nil {
			return fmt.Errorf("scan claims of cluster %s: %w", c, err)
		}
		for i := 0; i < len(pairs); i += 2 {
			p, ok, err := m.check(c, pairs[i], pairs[i+1])
			if err != nil {
				return fmt.Errorf("decode record %s of cluster %s: %w", pairs[i], c, err)
			}
			if ok {
				found(p, pairs[i+1])
			}
		}
		if cursor = next; cursor == "0" {
			return nil
		}
	}
}

// parseScanReply splits queryScript's reply into the next cursor and the
// field/value pairs.
func parseScanReply(reply []any) (string, []string, error) {
	if len(reply) == 0 || len(reply)%2 != 1 {
		return "", nil, fmt.Errorf("unexpected scan reply of %d values", len(reply))
	}
	next, _ := reply[0].(string)
	pairs := make([]string, len(reply)-1)
	for i, v := range reply[1:] {
		pairs[i], _ = v.(string)
	}
	return next, pairs, nil
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

// check reports whether the stored value v of field key in cluster
// matches and where it goes in the page order. The script's state and
// kind checks are exact (the header's state letter; a key ends in
// "#"+kind only for that kind, as a claimRef holds no '#'), so without a
// text filter nothing is decoded here: only the page's records are.
func (m *matcher) check(cluster, key, v string) (position, bool, error) {
	if m.text == "" {
		since, err := sinceOf(v)
		return position{since: since, cluster: cluster, key: key}, err == nil, err
	}
	r, err := decodeValue(v)
	if err != nil {
		return position{}, false, err
	}
	return position{since: Since(&r).UnixNano(), cluster: cluster, key: key}, m.matchText(&r), nil
}

// sinceOf is Since of a stored value without decoding it: the
// lastTransitionTime field (encoded last; a quote inside a string is
// escaped, so the pattern only occurs as the key) or the header's time.
func sinceOf(v string) (int64, error) {
	const key = `,"lastTransitionTime":"`
	if i := strings.LastIndex(v, key); i >= 0 {
		rest := v[i+len(key):]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			if t, err := time.Parse(time.RFC3339Nano, rest[:j]); err == nil {
				return t.UnixNano(), nil
			}
		}
	}
	if len(v) < 20 {
		return 0, fmt.Errorf("stored value has no header line")
	}
	sec, err1 := strconv.ParseInt(v[:11], 10, 64)
	nsec, err2 := strconv.ParseInt(v[11:20], 10, 64)
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
