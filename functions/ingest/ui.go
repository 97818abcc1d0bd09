package ingest

import (
	"embed"
	"io/fs"
	"net/http"
)

// uiFiles is the status page: plain HTML, CSS and JavaScript, embedded so
// the binary serves it without a build step or a CDN.
//
//go:embed ui
var uiFiles embed.FS

// uiPolicy lets the page load only its own files and talk only to this
// origin's API; no inline script, no framing, no referrer to other sites.
const uiPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// ui serves the embedded status page under /ui/. The files are public;
// the data comes from the JSON API, which checks the token.
func (f *Function) ui() http.Handler {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embedded tree always has ui/
	}
	files := http.StripPrefix("/ui/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", uiPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		// The files change only with the binary; revalidate so an upgrade shows at once.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
