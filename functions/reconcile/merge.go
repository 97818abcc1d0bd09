package reconcile

import (
	"context"
	"fmt"

	"github.com/stuttgart-things/machinery-status-collector/shared/publish"
)

// mergeIfUnchanged is autoMerge after a publish whose action left the
// PR as it was (ActionUnchanged): that PR is as current as on a clean
// run. A run that opened or moved the PR leaves merging to a later run,
// so that checks start on the new head first. state is the publish's
// state (nil when there is none).
func (f *Function) mergeIfUnchanged(ctx context.Context, action string, state *savedState, res *Result) error {
	if action != publish.ActionUnchanged || state == nil {
		return nil
	}
	return f.autoMerge(ctx, *state, res)
}

// autoMerge gives the open PR of a run that left it as it was to the publisher's auto-merge
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
