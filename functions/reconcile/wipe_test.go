package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

// TestRedisWipedDuringRunStaysDirty: a run that read generation G from a
// Redis that is wiped (restarted without persistence) before it finishes
// must not mark G reconciled in the new, empty Redis. The new generation
// counter starts again at 1, so a stale mark G would make the store look
// clean, and every status stored after the wipe would be skipped as
// "clean" until the counter passed G (found by shared/e2e).
func TestRedisWipedDuringRunStaysDirty(t *testing.T) {
	e := newEnv(t, 5)
	for i := range 5 {
		e.put("Available", i) // one generation each: G = 5
	}
	// Hold the run in its first write to GitHub, after it read the
	// generation, while Redis restarts empty and a new status arrives.
	e.gh.Inject(githubfake.Fault{Kind: githubfake.Latency, Method: "POST", Path: "/git/trees", Wait: 2 * time.Second})
	e.gh.ResetCalls()
	done := make(chan Result)
	go func() {
		res, _ := e.fn.Run(context.Background())
		done <- res
	}()
	deadline := time.Now().Add(10 * time.Second)
	for e.gh.CallCount() == 0 { // the run reads the base branch after the generation
		if time.Now().After(deadline) {
			t.Fatal("the run made no GitHub call")
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
	e.redis.Restart()
	e.put("Wiped and changed", 2) // generation 1 of the new Redis
	if res := <-done; res.Outcome != "opened" {
		t.Fatalf("run across the wipe: %+v", res)
	}
	if cur, done := e.generations(); done >= cur {
		t.Fatalf("after the wipe the store looks clean: generation %d, reconciled %d", cur, done)
	}
	res := e.run()
	if res.Outcome == OutcomeSkipped {
		t.Fatalf("the run after the wipe skipped: %+v", res)
	}
	file, _ := e.repo.File(prBranch, regPath)
	if !strings.Contains(string(file), "claimRef: team/claim-2\n    statusMessage: Wiped and changed\n") {
		t.Fatalf("the status stored after the wipe is not on the branch:\n%s", file)
	}
}
