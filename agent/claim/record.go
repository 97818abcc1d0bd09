package claim

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
)

// Key identifies a claim in the agent: its resource (plural.group, so two
// kinds may share a name) plus namespace and name. It is comparable, the
// workqueue's item type.
type Key struct {
	Resource  string // e.g. postgresqls.database.example.org
	Namespace string
	Name      string
}

// KeyOf returns the key of c watched through resource gr.
func KeyOf(gr schema.GroupResource, c *Claim) Key {
	return Key{Resource: gr.String(), Namespace: c.Namespace, Name: c.Name}
}

// String is resource/namespace/name, for logs.
func (k Key) String() string { return k.Resource + "/" + k.Namespace + "/" + k.Name }

// Record is the status record of c for cluster, without ObservedAt (the
// caller stamps it, so time stays injectable). The status message is the
// Ready condition's message, or "Ready=<status>" when that is empty, as the
// seed informer sent it; a claim without a Ready condition is
// Ready=Unknown.
func (c *Claim) Record(cluster string) status.Record {
	ready := c.Ready.Status
	if ready == "" {
		ready = status.ReadyUnknown
	}
	msg := c.Ready.Message
	if msg == "" {
		msg = "Ready=" + ready
	}
	return status.Record{
		Cluster:            cluster,
		ClaimRef:           c.Namespace + "/" + c.Name,
		Kind:               kindOf(c.APIVersion, c.Kind),
		UID:                string(c.UID),
		StatusMessage:      msg,
		Ready:              ready,
		Reason:             c.Ready.Reason,
		Synced:             c.Synced.Status,
		Generation:         c.Generation,
		ObservedGeneration: c.Ready.ObservedGeneration,
		LastTransitionTime: c.Ready.LastTransitionTime,
	}
}

// DeletedRecord is the record announcing that c is gone: its last known
// status with Deleted set, so the collector keeps the last message.
func (c *Claim) DeletedRecord(cluster string) status.Record {
	r := c.Record(cluster)
	r.Deleted = true
	return r
}

// kindOf is Kind.group, the collector's kind field; empty for core-group
// objects (no claim lives there) so the record stays valid.
func kindOf(apiVersion, kind string) string {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok || group == "" || kind == "" {
		return ""
	}
	return kind + "." + group
}
