package knative

import (
	"context"
	"testing"
	"time"
)

// Every object of every kustomization passes a server-side dry run with
// strict field validation, both applied and created: the API server (and,
// for Knative, the CRD schemas of the pinned releases) accepts each field
// as written.
func TestDryRun(t *testing.T) {
	a := sharedAPI(t)
	ctx := context.Background()
	for _, dir := range allDirs {
		t.Run(dir, func(t *testing.T) {
			start := time.Now()
			objs := render(t, dir)
			for _, o := range objs {
				for _, via := range []string{viaApply, viaCreate} {
					if err := a.dryRun(ctx, withPlaceholderImages(o), via, "Strict"); err != nil {
						t.Errorf("%s %s: %v", via, objectID(o), err)
					}
				}
			}
			t.Logf("%d objects accepted (apply and create) in %s", len(objs), time.Since(start).Round(time.Millisecond))
		})
	}
}

// The dry run is only worth something if it rejects mistakes: a misspelt
// field in each kind of object must fail, naming the field, while the same
// object without the typo passes (TestDryRun). The last case shows why
// fieldValidation=Strict matters: with Ignore a create drops the typo and
// succeeds.
func TestDryRunRejectsMisspeltFields(t *testing.T) {
	a := sharedAPI(t)
	tests := []struct {
		dir, object string
		parent      []any // path to the map holding the field
		field, typo string
		via         string
		validation  string
		wantErr     string // exact; "" = accepted
	}{
		{
			overlayKnative, "serving.knative.dev/v1 Service machinery-status-collector/reconcile",
			[]any{"spec", "template", "spec"}, "containerConcurrency", "contianerConcurrency", viaCreate, "Strict",
			`Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.template.spec.contianerConcurrency"`,
		},
		{
			overlayKnative, "serving.knative.dev/v1 Service machinery-status-collector/reconcile",
			[]any{"spec", "template", "spec"}, "containerConcurrency", "contianerConcurrency", viaApply, "Strict",
			`failed to create typed patch object (machinery-status-collector/reconcile; serving.knative.dev/v1, Kind=Service): .spec.template.spec.contianerConcurrency: field not declared in schema`,
		},
		{
			overlayKnative, "serving.knative.dev/v1 Service machinery-status-collector/ingest",
			[]any{"spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet"}, "path", "pth", viaCreate, "Strict",
			`Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.template.spec.containers[0].readinessProbe.httpGet.pth"`,
		},
		{
			overlayKnative, "sources.knative.dev/v1 PingSource machinery-status-collector/reconcile",
			[]any{"spec"}, "schedule", "shedule", viaCreate, "Strict",
			`PingSource in version "v1" cannot be handled as a PingSource: strict decoding error: unknown field "spec.shedule"`,
		},
		{
			overlayKnative, "sources.knative.dev/v1 PingSource machinery-status-collector/reconcile",
			[]any{"spec"}, "schedule", "shedule", viaApply, "Strict",
			`failed to create typed patch object (machinery-status-collector/reconcile; sources.knative.dev/v1, Kind=PingSource): .spec.shedule: field not declared in schema`,
		},
		{
			overlayCronJob, "batch/v1 CronJob machinery-status-collector/reconcile",
			[]any{"spec"}, "concurrencyPolicy", "concurencyPolicy", viaCreate, "Strict",
			`CronJob in version "v1" cannot be handled as a CronJob: strict decoding error: unknown field "spec.concurencyPolicy"`,
		},
		{
			baseDir, "apps/v1 StatefulSet machinery-status-collector/redis",
			[]any{"spec", "volumeClaimTemplates", 0, "spec"}, "accessModes", "accesModes", viaApply, "Strict",
			`failed to create typed patch object (machinery-status-collector/redis; apps/v1, Kind=StatefulSet): .spec.volumeClaimTemplates[0].spec.accesModes: field not declared in schema`,
		},
		{
			baseDir, "networking.k8s.io/v1 NetworkPolicy machinery-status-collector/redis",
			[]any{"spec"}, "policyTypes", "policyType", viaApply, "Strict",
			`failed to create typed patch object (machinery-status-collector/redis; networking.k8s.io/v1, Kind=NetworkPolicy): .spec.policyType: field not declared in schema`,
		},
		{
			agentDir, "apps/v1 Deployment machinery-status-collector/machinery-status-agent",
			[]any{"spec", "template", "spec", "containers", 0}, "readinessProbe", "readynessProbe", viaCreate, "Strict",
			`Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].readynessProbe"`,
		},
		// Without strict validation the typo is pruned and the create succeeds.
		{
			overlayKnative, "serving.knative.dev/v1 Service machinery-status-collector/reconcile",
			[]any{"spec", "template", "spec"}, "containerConcurrency", "contianerConcurrency", viaCreate, "Ignore",
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.typo+"/"+tt.via+"/"+tt.validation, func(t *testing.T) {
			obj := withPlaceholderImages(find(t, render(t, tt.dir), tt.object))
			parent, ok := lookup(obj.Object, tt.parent...)
			m, isMap := parent.(map[string]any)
			if !ok || !isMap {
				t.Fatalf("%s has no map at %v", tt.object, tt.parent)
			}
			v, ok := m[tt.field]
			if !ok {
				t.Fatalf("%s has no field %s at %v", tt.object, tt.field, tt.parent)
			}
			delete(m, tt.field)
			m[tt.typo] = v

			err := a.dryRun(context.Background(), obj, tt.via, tt.validation)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Fatalf("%s %s with %q, fieldValidation=%s:\ngot error  %q\nwant error %q", tt.via, tt.object, tt.typo, tt.validation, got, tt.wantErr)
			}
			if got != "" {
				t.Logf("rejected: %s", got)
			}
		})
	}
}
