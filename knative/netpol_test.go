package knative

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// podLabelsPath is where each workload kind keeps its pods' labels.
var podLabelsPath = map[string][]any{
	"apps/v1 Deployment":             {"spec", "template", "metadata", "labels"},
	"apps/v1 StatefulSet":            {"spec", "template", "metadata", "labels"},
	"batch/v1 CronJob":               {"spec", "jobTemplate", "spec", "template", "metadata", "labels"},
	"serving.knative.dev/v1 Service": {"spec", "template", "metadata", "labels"},
}

// The Redis NetworkPolicy, evaluated against the pod labels of every
// rendered workload: it selects the Redis pods and admits exactly the
// ingest and reconcile pods, in both overlays.
func TestRedisNetworkPolicyAdmitsOnlyTheFunctions(t *testing.T) {
	for _, dir := range []string{overlayKnative, overlayCronJob} {
		objs := render(t, dir)
		np := find(t, objs, "networking.k8s.io/v1 NetworkPolicy machinery-status-collector/redis").Object
		selector := func(path ...any) labels.Selector {
			v, ok := lookup(np, path...)
			m, isMap := v.(map[string]any)
			if !ok || !isMap {
				t.Fatalf("%s: NetworkPolicy has no selector at %v", dir, path)
			}
			var ls metav1.LabelSelector
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &ls); err != nil {
				t.Fatal(err)
			}
			s, err := metav1.LabelSelectorAsSelector(&ls)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		rules, _ := lookup(np, "spec", "ingress")
		peers, _ := lookup(np, "spec", "ingress", 0, "from")
		_, nsSel := lookup(np, "spec", "ingress", 0, "from", 0, "namespaceSelector")
		if r, _ := rules.([]any); len(r) != 1 || len(peers.([]any)) != 1 || nsSel {
			t.Fatalf("%s: want one ingress rule from pods of this namespace, got %v", dir, rules)
		}
		target := selector("spec", "podSelector")
		from := selector("spec", "ingress", 0, "from", 0, "podSelector")
		var selected, admitted []string
		for _, o := range objs {
			path, ok := podLabelsPath[o.GetAPIVersion()+" "+o.GetKind()]
			if !ok {
				continue
			}
			v, _ := lookup(o.Object, path...)
			m, _ := v.(map[string]any)
			set := labels.Set{}
			for k, val := range m {
				set[k], _ = val.(string)
			}
			if target.Matches(set) {
				selected = append(selected, o.GetKind()+"/"+o.GetName())
			}
			if from.Matches(set) {
				admitted = append(admitted, o.GetKind()+"/"+o.GetName())
			}
		}
		slices.Sort(selected)
		slices.Sort(admitted)
		wantAdmitted := []string{"Deployment/ingest", "CronJob/reconcile"}
		if dir == overlayKnative {
			wantAdmitted = []string{"Service/ingest", "Service/reconcile"}
		}
		slices.Sort(wantAdmitted)
		if !slices.Equal(selected, []string{"StatefulSet/redis"}) || !slices.Equal(admitted, wantAdmitted) {
			t.Errorf("%s: policy selects %v and admits %v; want [StatefulSet/redis] and %v", dir, selected, admitted, wantAdmitted)
		}
	}
}
