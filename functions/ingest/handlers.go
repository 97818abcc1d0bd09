package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// retryAfterSeconds is what a 503 asks clients to wait.
const retryAfterSeconds = 5

// authenticate checks the bearer token and returns the cluster it may
// write ("*" for any). It writes the 401 itself. With no tokens configured
// the API is open and every caller may act on every cluster.
func (f *Function) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	tokens := f.tokens.Load()
	if tokens.Len() == 0 {
		return AnyCluster, true
	}
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="machinery-status-collector"`)
		writeError(w, http.StatusUnauthorized, "Authorization: Bearer token required")
		return "", false
	}
	granted, ok := tokens.Cluster(token)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="machinery-status-collector", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "bearer token not recognised")
		return "", false
	}
	return granted, true
}

// permit answers 403 unless a token scoped to granted may act on cluster
// ("*" asks for every cluster).
func permit(w http.ResponseWriter, granted, cluster string) bool {
	if Allows(granted, cluster) {
		return true
	}
	target := "cluster " + cluster
	if cluster == AnyCluster {
		target = "every cluster"
	}
	writeError(w, http.StatusForbidden, fmt.Sprintf("token is scoped to cluster %s and may not access %s", granted, target))
	return false
}

// authorize is authenticate followed by permit.
func (f *Function) authorize(w http.ResponseWriter, r *http.Request, cluster string) bool {
	granted, ok := f.authenticate(w, r)
	return ok && permit(w, granted, cluster)
}

// createdBody is the seed's answer to POST /api/v1/status, plus the outcome.
type createdBody struct {
	Status  string `json:"status"`
	Outcome string `json:"outcome"`
}

// postStatus stores one seed-style update and answers 201 {"status":"created"}.
func (f *Function) postStatus(w http.ResponseWriter, r *http.Request) {
	granted, ok := f.authenticate(w, r)
	if !ok || !f.reserve(w, r) {
		return
	}
	defer f.release(r)
	var rec status.Record
	if err := f.readBody(w, r, func(b []byte) (err error) { rec, err = status.DecodeRecord(b); return err }); err != nil {
		writeError(w, err.code, err.msg)
		return
	}
	if rec.Cluster != "" && !permit(w, granted, rec.Cluster) {
		return
	}
	if err := rec.Normalize("", f.opts.Now()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, ok := f.apply(w, r, []status.Record{rec}, false)
	if !ok {
		return
	}
	writeBody(w, http.StatusCreated, createdBodies[res.Outcomes[0]])
}

// createdBodies are postStatus's answers, encoded once: one per outcome.
var createdBodies = func() map[store.Outcome][]byte {
	m := map[store.Outcome][]byte{}
	for _, o := range []store.Outcome{store.Accepted, store.Unchanged, store.Stale} {
		b, _ := json.Marshal(createdBody{Status: "created", Outcome: outcomeName(o)})
		m[o] = append(b, '\n')
	}
	return m
}()

// batchBody answers POST /api/v1/statuses.
type batchBody struct {
	Accepted   int   `json:"accepted"`
	Unchanged  int   `json:"unchanged"`
	Stale      int   `json:"stale"`
	Generation int64 `json:"generation"`
}

// postStatuses stores a batch for one cluster, whole or not at all.
func (f *Function) postStatuses(w http.ResponseWriter, r *http.Request) {
	granted, ok := f.authenticate(w, r)
	if !ok || !f.reserve(w, r) {
		return
	}
	defer f.release(r)
	var b status.Batch
	if err := f.readBody(w, r, func(body []byte) (err error) { b, err = status.DecodeBatch(body); return err }); err != nil {
		writeError(w, err.code, err.msg)
		return
	}
	if b.Cluster != "" && !permit(w, granted, b.Cluster) {
		return
	}
	if err := status.ValidateCluster("cluster", b.Cluster); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case len(b.Items) == 0:
		writeError(w, http.StatusBadRequest, "items: must hold at least one item")
		return
	case len(b.Items) > f.opts.MaxItems:
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("items: %d items exceed the limit of %d", len(b.Items), f.opts.MaxItems))
		return
	}
	for i := range b.Items {
		it := &b.Items[i]
		if it.Cluster == "" {
			it.Cluster = b.Cluster
		} else if it.Cluster != b.Cluster {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("items[%d].cluster: %q differs from the batch's cluster %q", i, it.Cluster, b.Cluster))
			return
		}
	}
	if i, err := status.NormalizeAll(b.Items, f.opts.Now()); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("items[%d].%v", i, err))
		return
	}
	f.metrics.batch.Observe(float64(len(b.Items)))
	res, ok := f.apply(w, r, b.Items, true)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, batchBody{Accepted: res.Accepted, Unchanged: res.Unchanged, Stale: res.Stale, Generation: res.Generation})
}

// apply writes records to the store, answering 503 itself on failure,
// and 400 for a kind-less record whose claim has several kinds.
func (f *Function) apply(w http.ResponseWriter, r *http.Request, recs []status.Record, batch bool) (store.Result, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), f.opts.RequestTimeout)
	defer cancel()
	if err := f.opts.Store.FillTransitions(ctx, recs); err != nil {
		f.storeFailed(w, r, err)
		return store.Result{}, false
	}
	res, err := f.opts.Store.Apply(ctx, recs[0].ReceivedAt, recs)
	var amb *store.AmbiguousKindError
	if errors.As(err, &amb) {
		msg := amb.Error()
		if batch {
			msg = fmt.Sprintf("items[%d].%s", amb.Index, msg)
		}
		writeError(w, http.StatusBadRequest, msg)
		return res, false
	}
	if err != nil {
		f.storeFailed(w, r, err)
		return res, false
	}
	f.metrics.outcomes(res)
	return res, true
}

// storeFailed answers a failed store call: 409 when the write would take
// its cluster past the claim limit (resending cannot help), 503 with
// Retry-After when Redis is full or unreachable. Nothing was stored.
func (f *Function) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	var limit *store.ClaimLimitError
	switch {
	case errors.As(err, &limit):
		f.log.Warn("claim limit reached", "request_id", RequestID(r.Context()), "err", err)
		writeError(w, http.StatusConflict, limit.Error()+" (INGEST_MAX_CLAIMS_PER_CLUSTER); nothing was stored")
	case errors.Is(err, store.ErrFull):
		f.log.Error("status store is full", "request_id", RequestID(r.Context()), "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		writeError(w, http.StatusServiceUnavailable, "status store is full (Redis maxmemory reached); nothing was stored, retry later")
	default:
		f.log.Error("status store failed", "request_id", RequestID(r.Context()), "err", err)
		writeUnavailable(w, retryAfterSeconds)
	}
}

func outcomeName(o store.Outcome) string {
	switch o {
	case store.Accepted:
		return "accepted"
	case store.Unchanged:
		return "unchanged"
	default:
		return "stale"
	}
}

// getAllStatus lists every record of every cluster (a "*" token when auth
// is on), streamed and optionally paged and filtered (see listRecords).
func (f *Function) getAllStatus(w http.ResponseWriter, r *http.Request) {
	if !f.authorize(w, r, AnyCluster) {
		return
	}
	f.listRecords(w, r, "")
}

// getClusterStatus lists one cluster's records; an unknown cluster has none.
func (f *Function) getClusterStatus(w http.ResponseWriter, r *http.Request) {
	cluster := r.PathValue("cluster")
	if err := status.ValidateCluster("cluster", cluster); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !f.authorize(w, r, cluster) {
		return
	}
	f.listRecords(w, r, cluster)
}

// getClusters lists every cluster with its last-seen time and counts.
func (f *Function) getClusters(w http.ResponseWriter, r *http.Request) {
	if !f.authorize(w, r, AnyCluster) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.opts.RequestTimeout)
	defer cancel()
	sums, err := f.opts.Store.Summaries(ctx)
	if err != nil {
		f.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sums)
}

type statusBody struct {
	Status string `json:"status"`
}

func (f *Function) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// readyz answers 200 only while Redis answers, so no traffic is routed to
// a replica that cannot store it.
func (f *Function) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*f.opts.RequestTimeout/10)
	defer cancel()
	if err := f.opts.Store.Ping(ctx); err != nil {
		f.log.Warn("not ready", "err", err)
		writeUnavailable(w, retryAfterSeconds)
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

type versionBody struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

func (f *Function) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, versionBody{Version: f.opts.Version, Commit: f.opts.Commit})
}
