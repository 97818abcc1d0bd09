package reconcile

import (
	"context"
	"fmt"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
)

// autoMerge gives a clean run's open PR to the publisher's auto-merge
// (REGISTRY_AUTOMERGE), which merges it once it is current, mergeable
// and green, and records what happened in res. The state it returns is
// stored whatever the outcome.
func (f *Function) autoMerge(ctx context.Context, state savedState, res *Result) error {
	m, ok := f.opts.Publisher.(publish.Merger)
	if !ok || state.PRNumber == 0 {
		return nil
	}
	mres, st, err := m.AutoMerge(ctx, state.State)
	if serr := f.saveState(ctx, savedState{State: st, Shards: state.Shards}); serr != nil && err == nil {
		err = serr
	}
	res.Note = joinNote(res.Note, mres.Note)
	res.PRNumber, res.PRURL = mres.PRNumber, mres.PRURL
	if mres.Action == publish.ActionMerged {
		res.Outcome, res.Reason = publish.ActionMerged, "auto-merge"
	}
	if err != nil {
		return fmt.Errorf("auto-merge: %w", err)
	}
	return nil
}
