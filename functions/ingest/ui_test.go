package ingest

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page screenshot to docs/ui.png")

// TestUIFiles serves the embedded page with its security headers.
func TestUIFiles(t *testing.T) {
	e := newEnv(t, "a="+tokenA)
	for _, tt := range []struct{ path, ctype, contains string }{
		{"/ui/", "text/html; charset=utf-8", `<script src="app.js" defer></script>`},
		{"/ui/app.js", "text/javascript; charset=utf-8", "sessionStorage"},
		{"/ui/app.css", "text/css; charset=utf-8", "@media (max-width: 640px)"},
	} {
		code, h, body := e.do("GET", tt.path, "", "", "")
		if code != 200 || h.Get("Content-Type") != tt.ctype || !strings.Contains(body, tt.contains) || h.Get("Content-Security-Policy") != uiPolicy {
			t.Fatalf("GET %s = %d %q %q", tt.path, code, h.Get("Content-Type"), h.Get("Content-Security-Policy"))
		}
	}
	if code, _, _ := e.do("GET", "/ui/nope.js", "", "", ""); code != 404 {
		t.Fatalf("GET /ui/nope.js = %d, want 404", code)
	}
}

// Fleet of the browser test: three clusters, 100,000 claims, every tenth
// not ready; charlie last reported an hour before the ingest's clock.
var (
	fleetClusters = []struct {
		name, seen string
		claims     int
	}{
		{"alpha", "2026-11-25T11:59:30Z", 40000},
		{"bravo", "2026-11-25T11:58:00Z", 40000},
		{"charlie", "2026-11-25T11:00:00Z", 20000},
	}
	fleetKinds    = []string{"PostgreSQL.database.example.org", "Bucket.storage.example.org", "Cache.cache.example.org"}
	fleetReasons  = []string{"Creating", "ReconcileError", "Unavailable"}
	fleetMessages = []string{
		"Waiting for the managed resource to become ready",
		"cannot resolve references: referenced field was empty (referenced resource may not yet be ready)",
		"connect failed: dial tcp 10.0.3.12:5432: i/o timeout",
		"composite resource claim is waiting for composite resource to become Ready",
	}
)

// fleetRecord is claim i of cluster c.
func fleetRecord(c string, i int) status.Record {
	base := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r := status.Record{Cluster: c, ClaimRef: fmt.Sprintf("team-%d/claim-%05d", i%20, i), Kind: fleetKinds[i%3],
		UID: fmt.Sprintf("uid-%s-%d", c, i), StatusMessage: "Resource is available", Ready: "True", Reason: "Available", Synced: "True",
		ObservedAt: base.Add(-2 * time.Hour).Format(time.RFC3339)}
	if i%10 == 0 {
		r.Ready, r.Reason, r.StatusMessage = "False", fleetReasons[i/10%3], fleetMessages[i/10%4]
		r.LastTransitionTime = base.Add(-time.Duration(60+(i*7919+int(c[0])*613)%86400) * time.Second).Format(time.RFC3339)
	}
	return r
}

// loadFleet writes the fleet with Store.Apply in batches of 2,000, one
// goroutine per cluster, and returns the not-ready rows' keys as the page
// shows them (cluster/claimRef#kind), in page order, by cluster too.
func loadFleet(t *testing.T, st *store.Store) (all []string, byCluster map[string][]string) {
	t.Helper()
	type row struct {
		since        string
		cluster, key string
	}
	var mu sync.Mutex
	var rows []row
	var wg sync.WaitGroup
	errs := make(chan error, len(fleetClusters))
	for _, c := range fleetClusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := 0; start < c.claims; start += 2000 {
				recs := make([]status.Record, 0, 2000)
				for i := start; i < start+2000 && i < c.claims; i++ {
					recs = append(recs, fleetRecord(c.name, i))
				}
				seen, _ := time.Parse(time.RFC3339, c.seen)
				if i, err := status.NormalizeAll(recs, seen); err != nil {
					errs <- fmt.Errorf("record %d: %w", i, err)
					return
				}
				if _, err := st.Apply(context.Background(), c.seen, recs); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, r := range recs {
					if r.State() == 'N' {
						rows = append(rows, row{r.LastTransitionTime, r.Cluster, r.Key()})
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.since != b.since {
			return a.since > b.since // one format, whole seconds: text order is time order
		}
		if a.cluster != b.cluster {
			return a.cluster < b.cluster
		}
		return a.key < b.key
	})
	byCluster = map[string][]string{}
	for _, r := range rows {
		k := r.cluster + "/" + r.key
		all = append(all, k)
		byCluster[r.cluster] = append(byCluster[r.cluster], k)
	}
	return all, byCluster
}

// browser starts headless Chromium (Debian's package, which make test-deps
// installs) with a fresh profile and no network services.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed; make test-deps installs it (apt-get install chromium)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true),
		chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start it without a deadline: see chromedp.Run
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// page drives one tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

// do runs steps with a deadline.
func (p page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](p page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitJS polls until the JavaScript expression is true, failing with what
// describe shows of the page when it does not become true in time.
func (p page) waitJS(what, expr string, timeout time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		p.t.Fatalf("%s: %v; page shows: %s", what, err, eval[string](p, `document.body.innerText.slice(0, 600)`))
	}
}

// rowKeys is the data-key of every claims row shown.
const rowKeys = `[...document.querySelectorAll('#claims tbody tr[data-key]')].map(tr => tr.dataset.key)`

// rowsAre is a JavaScript test that the shown rows are exactly keys.
func rowsAre(keys []string) string {
	return fmt.Sprintf(`JSON.stringify(%s) === %q`, rowKeys, "["+quoteAll(keys)+"]")
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ",")
}

// TestStatusPageInBrowser loads the status page in headless Chromium over
// a real Redis holding 3 clusters and 100,000 claims, and checks what it
// shows: clusters with the stale one marked, the right not-ready rows,
// filters, paging, its refresh (paused while hidden), its weight and load
// time, phone width, and token handling.
func TestStatusPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	start := time.Now()
	e := newEnv(t, "")
	all, byCluster := loadFleet(t, e.store)
	t.Logf("stored 100,000 claims (%d not ready) in %v", len(all), time.Since(start).Round(time.Millisecond))
	if err := e.store.SavePublishState(context.Background(), []byte(`{"baseSHA":"b","prNumber":17,"prURL":"https://github.example/platform/registry/pull/17"}`)); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	p := page{t, ctx}

	t0 := time.Now()
	p.do(chromedp.Navigate(e.srv.URL + "/ui/"))
	loaded := time.Since(t0)
	p.waitJS("first rows", `document.querySelectorAll('#claims tbody tr[data-key]').length > 0`, 30*time.Second)
	firstRows := time.Since(t0)
	bytes := eval[float64](p, `performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).reduce((n, e) => n + e.transferSize, 0)`)
	claims := eval[[]float64](p, `(e => [e.duration, e.transferSize])(performance.getEntriesByType('resource').find(e => e.name.includes('/api/v1/claims')))`)
	t.Logf("page load %v, first rows after %v, %.0f bytes transferred; the first claims request took %.0f ms for %.0f bytes", loaded.Round(time.Millisecond), firstRows.Round(time.Millisecond), bytes, claims[0], claims[1])
	// The page itself (HTML, CSS, JavaScript) loads in 0.2-0.6 s here;
	// its rows wait for one pass over the 100,000 claims in Redis: first
	// rows after 0.65-1.1 s with -race on this shared 2-core machine at a
	// load average of 6. Both are bounded loosely, so that a busy CI
	// machine does not fail the test.
	if loaded > 3*time.Second || firstRows > 15*time.Second {
		t.Errorf("page loaded after %v, first rows after %v: want under 3 s and 15 s", loaded, firstRows)
	}
	if bytes <= 0 || bytes > 1<<20 {
		t.Errorf("page transferred %.0f bytes, want under 1 MiB", bytes)
	}

	// Clusters, charlie marked stale; the first page of not-ready claims.
	p.waitJS("clusters", `JSON.stringify([...document.querySelectorAll('#clusters tbody tr')].map(tr => tr.dataset.cluster + ':' + tr.classList.contains('stale') + ':' + tr.cells[3].textContent)) === '["alpha:false:4,000","bravo:false:4,000","charlie:true:2,000"]'`, 15*time.Second)
	p.waitJS("first page", rowsAre(all[:50]), 15*time.Second)
	if got := eval[string](p, `document.getElementById('range').textContent`); got != "1–50 of 10,000" {
		t.Errorf("range = %q", got)
	}
	if got := eval[string](p, `(pr => pr.textContent + ' ' + pr.querySelector('a').href)(document.getElementById('pr'))`); got != "Open pull request: PR #17 · 50 changes pending https://github.example/platform/registry/pull/17" { // one change per batch written
		t.Errorf("pull request = %q", got)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shot)

	// Paging forward and back.
	p.do(chromedp.Click(chromedp.ID("older")))
	p.waitJS("second page", rowsAre(all[50:100]), 15*time.Second)
	p.do(chromedp.Click(chromedp.ID("newer")))
	p.waitJS("first page again", rowsAre(all[:50]), 15*time.Second)

	// Filters: cluster, then text on top, then kind alone.
	p.do(chromedp.Evaluate[chromedp.Void](`(s => { s.value = 'bravo'; s.dispatchEvent(new Event('change')); })(document.getElementById('f-cluster'))`))
	p.waitJS("cluster filter", rowsAre(byCluster["bravo"][:50]), 15*time.Second)
	want := byCluster["bravo"][7]
	claim := strings.SplitN(strings.SplitN(want, "/", 3)[2], "#", 2)[0] // bravo/team-N/claim-NNNNN#Kind -> claim-NNNNN
	p.do(chromedp.SendKeys(chromedp.ID("f-q"), claim))
	p.waitJS("text filter", rowsAre([]string{want}), 15*time.Second)
	p.do(chromedp.Evaluate[chromedp.Void](`(s => { s.value = ''; s.dispatchEvent(new Event('change')); })(document.getElementById('f-cluster'))`),
		chromedp.Evaluate[chromedp.Void](`(q => { q.value = ''; q.dispatchEvent(new Event('input')); })(document.getElementById('f-q'))`),
		chromedp.SendKeys(chromedp.ID("f-kind"), fleetKinds[1]))
	var kindRows []string
	for _, k := range all {
		if strings.HasSuffix(k, "#"+fleetKinds[1]) && len(kindRows) < 50 {
			kindRows = append(kindRows, k)
		}
	}
	p.waitJS("kind filter", rowsAre(kindRows), 15*time.Second)
	p.do(chromedp.Evaluate[chromedp.Void](`(k => { k.value = ''; k.dispatchEvent(new Event('input')); })(document.getElementById('f-kind'))`))
	p.waitJS("no filter", rowsAre(all[:50]), 15*time.Second)

	// It refreshes by itself, not while hidden.
	fresh := fleetRecord("alpha", 99990)
	fresh.ClaimRef, fresh.LastTransitionTime = "team-1/just-broke", "2026-11-25T11:59:59Z"
	hide := func(hidden bool) {
		p.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`Object.defineProperty(document, 'hidden', {configurable: true, get: () => %v}); document.dispatchEvent(new Event('visibilitychange'))`, hidden)))
	}
	claimsFetches := func() int {
		return eval[int](p, `performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/claims')).length`)
	}
	hide(true)
	apply(t, e.store, fresh)
	shown := `document.querySelector('#claims tbody tr[data-key]').dataset.key === 'alpha/team-1/just-broke#` + fresh.Kind + `'`
	time.Sleep(time.Second) // let a refresh already in flight land; sampling, not synchronisation
	hiddenFetches := claimsFetches()
	for hidden := time.Now(); time.Since(hidden) < 6*time.Second; { // longer than the 5 s refresh period
		if eval[bool](p, shown) || claimsFetches() != hiddenFetches {
			t.Fatal("the hidden page refreshed")
		}
		time.Sleep(200 * time.Millisecond) // sampling a state that must not change
	}
	hide(false)
	p.waitJS("refresh on becoming visible", shown, 15*time.Second)
	visibleFetches := claimsFetches()
	for deadline := time.Now().Add(8 * time.Second); claimsFetches() == visibleFetches; {
		if time.Now().After(deadline) {
			t.Fatal("no refresh within 8 s of the page becoming visible")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Phone width: no sideways scrolling, claims as stacked cards.
	p.do(chromedp.EmulateViewport(390, 844))
	p.waitJS("phone layout", `document.documentElement.scrollWidth <= 390 && getComputedStyle(document.querySelector('#claims thead')).display === 'none'`, 15*time.Second)

	t.Run("tokens", func(t *testing.T) { testStatusPageTokens(t, ctx, e.store) })
	t.Logf("whole browser test %v", time.Since(start).Round(time.Millisecond))
}

// testStatusPageTokens serves the same store with tokens on: the page asks
// for a token, refuses a wrong one clearly, and a cluster token sees only
// its cluster. The token lives in sessionStorage, never in the URL or a
// cookie.
func testStatusPageTokens(t *testing.T, browserCtx context.Context, st *store.Store) {
	tokens, err := ParseTokens([]byte("bravo=" + tokenB + "\n*=" + tokenAll))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{Store: st, Tokens: tokens, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}))
	t.Cleanup(srv.Close)
	ctx, cancel := chromedp.NewContext(browserCtx) // a new tab
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // open it without a deadline, which would close it
		t.Fatal(err)
	}
	p := page{t, ctx}
	p.do(chromedp.Navigate(srv.URL + "/ui/"))
	p.waitJS("token prompt", `!document.getElementById('token-form').hidden && document.getElementById('main').hidden`, 15*time.Second)
	p.do(chromedp.SendKeys(chromedp.ID("token"), "a-wrong-token-of-some-length\n"))
	p.waitJS("wrong token message", `document.getElementById('token-error').textContent === 'That token was not accepted: bearer token not recognised. Check it and try again.'`, 15*time.Second)
	p.do(chromedp.SendKeys(chromedp.ID("token"), tokenB+"\n"))
	p.waitJS("one cluster", `JSON.stringify([...document.querySelectorAll('#clusters tbody tr')].map(tr => tr.dataset.cluster)) === '["bravo"]'`, 15*time.Second)
	p.waitJS("its claims only", `(k => k.length === 50 && k.every(x => x.startsWith('bravo/')))(`+rowKeys+`)`, 15*time.Second)
	if got := eval[string](p, `sessionStorage.getItem('msc-token') + '|' + document.cookie + '|' + location.href`); got != tokenB+"||"+srv.URL+"/ui/" {
		t.Errorf("token storage, cookie, URL = %q", got)
	}
	if got := eval[string](p, `document.getElementById('f-cluster').options.length + ' ' + document.getElementById('range').textContent`); got != "2 1–50 of 4,000" {
		t.Errorf("cluster choices and range = %q", got)
	}
}

// apply stores records as received at the ingest's clock.
func apply(t *testing.T, st *store.Store, recs ...status.Record) {
	t.Helper()
	if i, err := status.NormalizeAll(recs, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("record %d: %v", i, err)
	}
	if _, err := st.Apply(context.Background(), recs[0].ReceivedAt, recs); err != nil {
		t.Fatal(err)
	}
}

// saveScreenshot keeps the screenshot as a test artifact in
// .cache/artifacts and, with -update-screenshot, as the README's docs/ui.png.
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	dir := filepath.Join("..", "..", ".cache", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "status-page.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "ui.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
