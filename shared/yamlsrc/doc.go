// Package yamlsrc is the byte-level view of a YAML file that lets a
// caller edit it without reformatting: a Source maps yaml.v3 node
// positions (line, character column) to byte offsets, finds where nodes
// end (yaml.v3 records only where they start) by re-scanning with the
// scanner's own rules, renders scalar values so they read back exactly,
// and an Editor applies many replacements and insertions in one linear
// pass. It knows nothing of any particular file layout.
package yamlsrc
