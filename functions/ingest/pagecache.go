package ingest

import (
	"sync"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Bounds of pageCache: the pages and the records it holds at once (each
// record at most a 4 KiB message and its fields: a few MB at worst), and
// how long a page is served without a scan even when the generation
// matches (a store restored or flushed may count generations again).
const (
	cachedPages   = 16
	cachedRecords = 1000
	cacheTTL      = 30 * time.Second
)

// pageKey identifies an answer of GET /api/v1/claims: the query (after
// the token's scope is applied) and the store generation it was read at.
type pageKey struct {
	q   store.Query
	gen int64
}

// cachedPage is one answer and when it was stored.
type cachedPage struct {
	key  pageKey
	body claimsBody
	at   time.Time
}

// pageCache keeps the last answers of the claims API, so the status page's
// refresh every few seconds costs one generation read while nothing was
// written, instead of a scan of the fleet. Safe for concurrent use.
type pageCache struct {
	mu    sync.Mutex
	pages []cachedPage // oldest first
	hits  int          // answers served from the cache, for tests
}

// get returns the answer stored for k, if it is younger than cacheTTL.
func (c *pageCache) get(k pageKey, now time.Time) (claimsBody, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pages {
		if p.key == k && now.Sub(p.at) < cacheTTL {
			c.hits++
			return p.body, true
		}
	}
	return claimsBody{}, false
}

// put stores an answer, replacing one for the same key and dropping the
// oldest while more than cachedPages pages or cachedRecords records are held.
func (c *pageCache) put(k pageKey, body claimsBody, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.pages[:0]
	records := len(body.Items)
	for _, p := range c.pages {
		if p.key != k && now.Sub(p.at) < cacheTTL {
			kept = append(kept, p)
			records += len(p.body.Items)
		}
	}
	clear(c.pages[len(kept):])
	c.pages = append(kept, cachedPage{key: k, body: body, at: now})
	for len(c.pages) > 1 && (len(c.pages) > cachedPages || records > cachedRecords) {
		records -= len(c.pages[0].body.Items)
		c.pages[0] = cachedPage{}
		c.pages = c.pages[1:]
	}
}

// size is the pages and records held.
func (c *pageCache) size() (pages, records int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pages {
		records += len(p.body.Items)
	}
	return len(c.pages), records
}
