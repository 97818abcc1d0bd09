package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
)

// logs collects every component's output, named by component and
// incarnation ("ingest#2", "agent cluster-b#1"), so the test can search
// all of it for secrets and count what the components reported.
type logs struct {
	mu      sync.Mutex
	streams map[string]*servertest.Buffer
}

func newLogs() *logs { return &logs{streams: map[string]*servertest.Buffer{}} }

// stream returns the writer for name, creating it on first use.
func (l *logs) stream(name string) *servertest.Buffer {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.streams[name]
	if s == nil {
		s = &servertest.Buffer{}
		l.streams[name] = s
	}
	return s
}

// names lists the streams in order.
func (l *logs) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.streams))
	for n := range l.streams {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// leak is one log line holding a secret; the secret itself is never
// printed, only which one it was.
type leak struct {
	stream, secret string
	line           int
}

// leaks finds every line of every stream that contains one of secrets
// (name -> value).
func (l *logs) leaks(secrets map[string]string) []leak {
	var out []leak
	for _, n := range l.names() {
		sc := bufio.NewScanner(strings.NewReader(l.stream(n).String()))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for i := 1; sc.Scan(); i++ {
			for name, v := range secrets {
				if strings.Contains(sc.Text(), v) {
					out = append(out, leak{stream: n, secret: name, line: i})
				}
			}
		}
	}
	return out
}

// lines counts the lines of all streams starting with prefix.
func (l *logs) lines(prefix string) int {
	n := 0
	for _, name := range l.names() {
		if strings.HasPrefix(name, prefix) {
			n += strings.Count(l.stream(name).String(), "\n")
		}
	}
	return n
}

// jsonLines calls fn for every JSON log line of the streams whose name
// starts with prefix; lines that are not JSON objects (a panic trace, a
// framework banner) are skipped.
func (l *logs) jsonLines(prefix string, fn func(map[string]any)) {
	for _, name := range l.names() {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(l.stream(name).String()))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				fn(m)
			}
		}
	}
}

// tail is the end of stream name, for failure messages.
func (l *logs) tail(name string, n int) string {
	s := l.stream(name).String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// dump writes every stream to its own file in dir, for reading a run
// after the fact (MSC_E2E_LOGS=dir).
func (l *logs) dump(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range l.names() {
		name := strings.Map(func(r rune) rune {
			if r == ' ' || r == '/' || r == '(' || r == ')' || r == '\'' || r == ',' {
				return '_'
			}
			return r
		}, n)
		if err := os.WriteFile(filepath.Join(dir, name+".log"), []byte(l.stream(n).String()), 0o644); err != nil {
			return fmt.Errorf("dump log %s: %w", n, err)
		}
	}
	return nil
}
