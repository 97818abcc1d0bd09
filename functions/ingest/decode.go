package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
)

// requestError is a client error with its HTTP status code.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// bodyPool recycles request body buffers; a batch body is up to 4 MiB.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads a JSON body, enforcing the content type and the size
// limit, and hands it to decode. The buffer is recycled afterwards, so
// decode must copy what it keeps (the status decoders do).
func (f *Function) readBody(w http.ResponseWriter, r *http.Request, decode func([]byte) error) *requestError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return &requestError{http.StatusUnsupportedMediaType, "Content-Type is missing; send application/json"}
	}
	// The exact common value skips the parser and its allocations.
	if ct != "application/json" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not supported; send application/json", ct)}
		}
	}
	if r.ContentLength > f.opts.MaxBodyBytes {
		return tooLarge(f.opts.MaxBodyBytes)
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 2*DefaultMaxBodyBytes {
			buf.Reset()
			bodyPool.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, f.opts.MaxBodyBytes)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(f.opts.MaxBodyBytes)
		}
		return badRequest("body: %v", err)
	}
	if err := decode(buf.Bytes()); err != nil {
		return badRequest("%s", err.Error())
	}
	return nil
}

func tooLarge(limit int64) *requestError {
	return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than the limit of %d bytes", limit)}
}
