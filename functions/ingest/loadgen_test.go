package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// loadConn is one keep-alive HTTP/1.1 connection that posts JSON and reads
// the answers doing no more than a load generator must. net/http's client
// costs the benchmark process about as much CPU as the server it measures;
// redis-benchmark, the baseline, is a lean C client, so the comparison
// needs a lean client on this side too.
type loadConn struct {
	conn   net.Conn
	r      *bufio.Reader
	head   []byte
	body   []byte // a buffer the caller may reuse for request bodies
	answer []byte
}

func dialLoad(addr string) (*loadConn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &loadConn{conn: c, r: bufio.NewReaderSize(c, 16<<10)}, nil
}

// post sends body to path and returns the answer's status code and body;
// the body is valid until the next call. The server must send
// Content-Length.
func (l *loadConn) post(path string, body []byte) (int, []byte, error) {
	l.head = append(l.head[:0], "POST "...)
	l.head = append(l.head, path...)
	l.head = append(l.head, " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: "...)
	l.head = strconv.AppendInt(l.head, int64(len(body)), 10)
	l.head = append(l.head, "\r\n\r\n"...)
	bufs := net.Buffers{l.head, body}
	if _, err := bufs.WriteTo(l.conn); err != nil {
		return 0, nil, err
	}
	line, err := l.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		line, err = l.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		if len(line) <= 2 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, nil, fmt.Errorf("bad Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return 0, nil, fmt.Errorf("answer %d without Content-Length", code)
	}
	l.answer = slices.Grow(l.answer[:0], length)[:length]
	_, err = io.ReadFull(l.r, l.answer)
	return code, l.answer, err
}

// runClients opens clients connections to addr and makes n calls of fn,
// spread over them, each call on its caller's own connection.
func runClients(b *testing.B, addr string, n, clients int, fn func(*loadConn)) {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for range clients {
		c, err := dialLoad(addr)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.conn.Close()
			for left.Add(-1) >= 0 {
				fn(c)
			}
		}()
	}
	wg.Wait()
}

// expect posts body and fails the benchmark unless the answer is want.
// It returns the answer's body, valid until c's next post.
func expect(b *testing.B, c *loadConn, path string, body []byte, want int) []byte {
	code, answer, err := c.post(path, body)
	if err != nil {
		b.Error(err)
	} else if code != want {
		b.Errorf("POST %s: status %d, want %d: %s", path, code, want, answer)
	}
	return answer
}
