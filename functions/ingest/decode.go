package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
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

// decodeBody reads a JSON body into v, enforcing the content type and the
// size limit, and explains decoding errors by field and byte offset.
func (f *Function) decodeBody(w http.ResponseWriter, r *http.Request, v any) *requestError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not supported; send application/json", ct)}
		}
	} else {
		return &requestError{http.StatusUnsupportedMediaType, "Content-Type is missing; send application/json"}
	}
	if r.ContentLength > f.opts.MaxBodyBytes {
		return tooLarge(f.opts.MaxBodyBytes)
	}
	body := http.MaxBytesReader(w, r.Body, f.opts.MaxBodyBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		return explainJSON(err, f.opts.MaxBodyBytes)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(f.opts.MaxBodyBytes)
		}
		return badRequest("body: unexpected data after the JSON object")
	}
	return nil
}

func tooLarge(limit int64) *requestError {
	return &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than the limit of %d bytes", limit)}
}

func explainJSON(err error, limit int64) *requestError {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.As(err, &se):
		return badRequest("body: invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return badRequest("%s: expected %s, got JSON %s (at byte %d)", field, te.Type, te.Value, te.Offset)
	case errors.Is(err, io.EOF):
		return badRequest("body: empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body: truncated JSON")
	}
	return badRequest("body: %v", err)
}
