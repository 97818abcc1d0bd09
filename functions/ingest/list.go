package ingest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// MaxPageLimit is the largest ?limit= a listing accepts.
const MaxPageLimit = 10000

// A streamed listing is bounded as a whole by maxListDuration, and each
// flush of its buffer by listWriteWindow: the server's WriteTimeout, meant
// for small answers, would cut a large answer however fast the client
// reads, so each flush moves the write deadline instead.
const (
	maxListDuration = 10 * time.Minute
	listWriteWindow = 30 * time.Second
)

// listQuery is a listing's query: ?limit=, ?cursor= and ?ready=.
type listQuery struct {
	limit int            // 0: everything, no paging
	after store.Position // the cursor: the last record of the previous page
	ready string         // "": every record
}

// parseListQuery reads a listing's query parameters for cluster ("" for
// every cluster), naming the parameter that is wrong.
func parseListQuery(q url.Values, cluster string) (listQuery, error) {
	var lq listQuery
	for name, vals := range q {
		if len(vals) > 1 && (name == "limit" || name == "cursor" || name == "ready") {
			return lq, fmt.Errorf("%s: given %d times; give it once", name, len(vals))
		}
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > MaxPageLimit {
			return lq, fmt.Errorf("limit: %q must be an integer from 1 to %d", v[0], MaxPageLimit)
		}
		lq.limit = n
	}
	if v, ok := q["cursor"]; ok {
		if lq.limit == 0 {
			return lq, errors.New("cursor: needs limit (take both from the Link header)")
		}
		p, ok := decodeCursor(v[0])
		if !ok || (cluster != "" && p.Cluster != cluster) {
			return lq, fmt.Errorf("cursor: %q is not a cursor of this listing; take it from the Link header", v[0])
		}
		lq.after = p
	}
	if v, ok := q["ready"]; ok {
		switch v[0] {
		case status.ReadyTrue, status.ReadyFalse, status.ReadyUnknown:
			lq.ready = v[0]
		default:
			return lq, fmt.Errorf("ready: %q must be one of True, False, Unknown", v[0])
		}
	}
	return lq, nil
}

// encodeCursor makes p opaque and URL-safe. Cluster names never hold a
// newline, so it separates cluster and key.
func encodeCursor(p store.Position) string {
	return base64.RawURLEncoding.EncodeToString([]byte(p.Cluster + "\n" + p.Key))
}

func decodeCursor(s string) (store.Position, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return store.Position{}, false
	}
	c, k, ok := strings.Cut(string(b), "\n")
	if !ok || k == "" || status.ValidateCluster("cluster", c) != nil {
		return store.Position{}, false
	}
	return store.Position{Cluster: c, Key: k}, true
}

// matches reports whether a record's stored JSON passes the ready filter.
func (lq listQuery) matches(js string) bool {
	if lq.ready == "" {
		return true
	}
	var r struct {
		Ready string `json:"ready"`
	}
	return json.Unmarshal([]byte(js), &r) == nil && r.Ready == lq.ready
}

// listRecords answers a listing of cluster ("" for every cluster) as a
// JSON array written while the records are read from Redis, so memory
// stays at one chunk of records whatever the size of the answer. Each
// Redis round trip is bounded by RequestTimeout, not the whole answer.
//
// With ?limit= a page holds at most limit records and, when more follow,
// a Link rel="next" header carries the cursor of its last record. The
// header goes out before the body, so a first pass picks the page: the
// positions of the first limit matches (and whether another follows).
// The second writes those of them that still exist and match, skipping
// records created or turned matching in between, which sort before the
// cursor: a page never exceeds limit, pages split the (cluster, key)
// order into disjoint ranges, and paging visits every record that exists
// (and matches) throughout exactly once. The page's positions add at most
// limit claim keys to the memory of the walk.
func (f *Function) listRecords(w http.ResponseWriter, r *http.Request, cluster string) {
	lq, err := parseListQuery(r.URL.Query(), cluster)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), maxListDuration)
	defer cancel()
	step := f.opts.RequestTimeout
	var page []store.Position // with limit: the page picked by the first pass
	if lq.limit > 0 {
		next := false
		err := f.opts.Store.Walk(ctx, cluster, lq.after, step, func(p store.Position, js string) bool {
			if !lq.matches(js) {
				return true
			}
			if len(page) == lq.limit {
				next = true
				return false
			}
			page = append(page, p)
			return true
		})
		if err != nil {
			f.storeFailed(w, r, err)
			return
		}
		if len(page) == 0 {
			writeBody(w, http.StatusOK, []byte("[]\n"))
			return
		}
		if next {
			w.Header().Set("Link", nextLink(r, lq, page[len(page)-1]))
		}
		if f.betweenPasses != nil {
			f.betweenPasses()
		}
	}
	out := &arrayWriter{w: w, rc: http.NewResponseController(w)}
	err = f.opts.Store.Walk(ctx, cluster, lq.after, step, func(p store.Position, js string) bool {
		if lq.limit > 0 {
			for len(page) > 0 && page[0].Before(p) {
				page = page[1:] // gone since the first pass
			}
			if len(page) == 0 {
				return false // past the page's end
			}
			if page[0] != p {
				return true // not in the page: created or turned matching since
			}
			page = page[1:]
		}
		if lq.matches(js) {
			out.add(js)
		}
		return out.err == nil && (lq.limit == 0 || len(page) > 0)
	})
	if err == nil {
		err = out.close()
	}
	switch {
	case err == nil:
	case !out.started:
		w.Header().Del("Link")
		f.storeFailed(w, r, err)
	default:
		// The 200 and part of the array are out: the status cannot change
		// any more. Abort the connection so the client sees a truncated
		// answer (no final chunk) instead of a short array it would trust.
		f.log.Error("listing failed after the answer started; aborting the response",
			"request_id", RequestID(r.Context()), "records_written", out.n, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// nextLink is the Link header value pointing at the page after end, as
// a reference relative to this request (RFC 8288), keeping its filters.
func nextLink(r *http.Request, lq listQuery, end store.Position) string {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(lq.limit))
	q.Set("cursor", encodeCursor(end))
	if lq.ready != "" {
		q.Set("ready", lq.ready)
	}
	return "<" + r.URL.EscapedPath() + "?" + q.Encode() + `>; rel="next"`
}

// arrayWriter writes a JSON array element by element through a buffer;
// the status line goes out with the first flush, so an error before that
// can still be answered with a 503.
type arrayWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	buf     *bufio.Writer
	started bool // the header and part of the body were sent
	n       int
	err     error
}

// add appends one element, already encoded.
func (a *arrayWriter) add(js string) {
	if a.buf == nil {
		a.buf = bufio.NewWriterSize(startedWriter{a}, 32<<10)
		a.buf.WriteByte('[')
	} else {
		a.buf.WriteByte(',')
	}
	_, a.err = a.buf.WriteString(js)
	a.n++
}

// close ends the array and flushes it.
func (a *arrayWriter) close() error {
	if a.err != nil {
		return a.err
	}
	if a.buf == nil {
		writeBody(a.w, http.StatusOK, []byte("[]\n"))
		return nil
	}
	a.buf.WriteString("]\n")
	return a.buf.Flush()
}

// startedWriter writes the JSON header before the first body bytes.
type startedWriter struct{ a *arrayWriter }

func (s startedWriter) Write(b []byte) (int, error) {
	// Not every ResponseWriter supports deadlines (httptest's recorder);
	// the server's own WriteTimeout holds then.
	_ = s.a.rc.SetWriteDeadline(time.Now().Add(listWriteWindow))
	if !s.a.started {
		s.a.started = true
		s.a.w.Header()["Content-Type"] = jsonContentType
		s.a.w.WriteHeader(http.StatusOK)
	}
	return s.a.w.Write(b)
}
