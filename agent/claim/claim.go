// Package claim turns Crossplane claim objects into the compact form the
// agent caches and into the status records it sends.
package claim

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Claim is all the agent keeps of a claim object: identity, generation and
// the Ready and Synced conditions. It replaces the full object in the
// informer cache (see Transform) so the agent's heap stays small however
// big the claims' specs, annotations and managedFields are.
//
// It embeds TypeMeta and ObjectMeta so that the informer machinery (key
// functions, tombstones) treats it like any Kubernetes object; only
// APIVersion, Kind, Namespace, Name, UID, Generation and ResourceVersion
// are ever set.
type Claim struct {
	v1.TypeMeta
	v1.ObjectMeta

	Ready  Condition
	Synced Condition
}

// Condition is the part of a Crossplane condition the record needs. Status
// is empty when the claim has no such condition.
type Condition struct {
	Status             string
	Reason             string
	Message            string
	ObservedGeneration int64
	// LastTransitionTime is the condition's own, as the API server wrote
	// it (RFC 3339); the collector's status page shows "since" from it.
	LastTransitionTime string
}

// DeepCopyObject returns an independent copy; it makes Claim a
// runtime.Object. The copy is shallow in ObjectMeta's maps and slices,
// which a transformed Claim never sets.
func (c *Claim) DeepCopyObject() runtime.Object {
	if c == nil {
		return nil
	}
	cp := *c
	return &cp
}

// StatusEqual reports whether a and b would produce the same status
// record: same identity, generation and conditions. Updates that change
// only other fields (labels, annotations, spec without a generation bump,
// resourceVersion) compare equal and are not worth a send.
func StatusEqual(a, b *Claim) bool {
	return a.UID == b.UID && a.Generation == b.Generation &&
		a.Kind == b.Kind && a.APIVersion == b.APIVersion &&
		a.Ready == b.Ready && a.Synced == b.Synced
}
