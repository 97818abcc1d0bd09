package store

// DefaultPrefix is the hash tag all keys share (see the package doc).
const DefaultPrefix = "{msc}"

// keys derives every key name from the prefix in one place.
type keys struct{ prefix string }

func (k keys) generation() string           { return k.prefix + ":gen" }
func (k keys) reconciled() string           { return k.prefix + ":reconciled" }
func (k keys) clusters() string             { return k.prefix + ":clusters" }
func (k keys) lock() string                 { return k.prefix + ":lock" }
func (k keys) publishState() string         { return k.prefix + ":publish" }
func (k keys) since() string                { return k.prefix + ":since" }
func (k keys) claims(cluster string) string { return k.prefix + ":claims:" + cluster }
func (k keys) counts(cluster string) string { return k.prefix + ":counts:" + cluster }
func (k keys) kinds(cluster string) string  { return k.prefix + ":kinds:" + cluster }
