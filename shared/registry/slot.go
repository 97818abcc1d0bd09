package registry

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stuttgart-things/machinery-status-collector/shared/yamlsrc"
)

// Edits on mappings and the status fields they hold, shared by both
// layouts. A "slot" is a mapping holding one cluster's status of a claim:
// the entry itself in the clusters layout, clusters.<name> in a
// ClaimRegistry.

// readyMode says whether a slot without a `ready` key gets one.
type readyMode int

const (
	// readyIfPresent: the seed's entries have no ready key; adding one to
	// every entry on the first run would churn the whole file.
	readyIfPresent readyMode = iota
	// readyAlways: status maps written by this package carry ready.
	readyAlways
)

// updateSlot brings slot f in line with x and reports the change. Nothing
// is written unless the message, the ready state (when tracked) or the
// deleted flag differ; then lastCheckedAt moves to x's observedAt. A
// deleted claim keeps its last message and gets `deleted: true`; the flag
// goes again when the claim comes back.
func (p *planner) updateSlot(f *fields, x *rec, mode readyMode) error {
	oldMsg, ok1 := f.text(fStatusMessage)
	oldReady, ok2 := f.text(fReady)
	oldAt, ok3 := f.text(fLastCheckedAt)
	for i, ok := range [...]bool{ok1, ok2, ok3} {
		if fld := [...]field{fStatusMessage, fReady, fLastCheckedAt}[i]; !ok {
			return errAt(f.val[fld].Line, ErrUnsupported, "%s of claim %s in cluster %s is %s, not a value", fieldNames[fld], x.ref(), x.cluster, kindName(f.val[fld]))
		}
	}
	oldDeleted := isTrue(f.val[fDeleted])
	hasReady := f.key[fReady] != nil
	shownReady := ""
	if hasReady {
		shownReady = oldReady
	}

	var add []string
	if x.deleted {
		if oldDeleted {
			return nil
		}
		if f.own(fDeleted) {
			if err := p.setValue(f, fDeleted, "true", true); err != nil {
				return err
			}
		} else {
			add = append(add, "deleted: true")
		}
	} else {
		msgChanged := oldMsg != x.msg() || f.key[fStatusMessage] == nil
		readyChanged := x.ready() != "" && (hasReady && oldReady != x.ready() || !hasReady && mode == readyAlways)
		if !msgChanged && !readyChanged && !oldDeleted {
			return nil
		}
		if msgChanged {
			if err := p.setOrAdd(f, fStatusMessage, x.msg(), &add); err != nil {
				return err
			}
		}
		if readyChanged {
			if err := p.setOrAdd(f, fReady, x.ready(), &add); err != nil {
				return err
			}
		}
		switch {
		case oldDeleted && f.merged[fDeleted]:
			add = append(add, "deleted: false") // overrides the merged flag
		case oldDeleted:
			if err := p.removeKey(f, fDeleted); err != nil {
				return err
			}
		}
	}
	if x.at() != "" && (f.key[fLastCheckedAt] == nil || oldAt != x.at()) {
		if err := p.setOrAdd(f, fLastCheckedAt, x.at(), &add); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		if err := p.insertKeys(f, add); err != nil {
			return err
		}
	}
	ready := x.ready()
	if ready == "" {
		ready = shownReady
	}
	p.change(x, statusText(shownReady, oldMsg, oldDeleted), statusText(ready, x.msg(), x.deleted))
	return nil
}

// setOrAdd rewrites fld's value, or queues a new `key: value` line (also
// when the value comes through a merge key: the own key overrides it).
func (p *planner) setOrAdd(f *fields, fld field, v string, add *[]string) error {
	if f.own(fld) {
		return p.setValue(f, fld, v, false)
	}
	*add = append(*add, fieldNames[fld]+": "+p.value(fld, v))
	return nil
}

// value renders v for a new line of key fld, quoted like the file's
// existing values of that key.
func (p *planner) value(fld field, v string) string {
	return yamlsrc.Render(v, p.guide.valStyle(fld), yamlsrc.WriteOpts{})
}

// setValue replaces the value of fld in f with v (raw: v is YAML already,
// such as `true`). The old value's quoting is kept when v is safe in it;
// a trailing comment stays; a tag is dropped (it described the old value).
func (p *planner) setValue(f *fields, fld field, v string, raw bool) error {
	old := f.val[fld]
	if old.Anchor != "" {
		return errAt(old.Line, ErrUnsupported, "%s carries anchor &%s; other values may refer to it, so it is not rewritten", fieldNames[fld], old.Anchor)
	}
	if old.Kind != yaml.ScalarNode && old.Kind != yaml.AliasNode {
		return errAt(old.Line, ErrUnsupported, "%s is %s, not a value", fieldNames[fld], kindName(old))
	}
	sp := p.s.ScalarSpan(old, f.c)
	text := v
	if !raw {
		pref := yamlsrc.StyleOf(old)
		if old.Kind == yaml.AliasNode {
			pref = yamlsrc.StyleAny
		}
		w := yamlsrc.WriteOpts{Flow: f.c.Flow, Indent: f.c.Indent + p.guide.step(), EOL: p.s.EOL(), IsValue: true}
		if sp.ContentIndent >= 0 {
			w.Indent = sp.ContentIndent
		}
		if pref == yamlsrc.StylePlain {
			w.OldTag = old.ShortTag()
		}
		text = yamlsrc.Render(v, pref, w)
	}
	if sp.Start == sp.End {
		// An empty value sits right after the ':'.
		if sp.Start == 0 || p.s.Bytes()[sp.Start-1] != ':' {
			return errAt(old.Line, ErrUnsupported, "cannot locate the empty value of %s", fieldNames[fld])
		}
		text = " " + text
	}
	if !sp.Block {
		p.ed.Replace(sp.Start, sp.End, text)
		return nil
	}
	// A block scalar: the header (up to its comment) becomes the new
	// value, or the new header; the old content lines go.
	head, body := text, ""
	if strings.HasPrefix(text, "|") || strings.HasPrefix(text, ">") {
		head, body, _ = strings.Cut(text, p.s.EOL())
		body = p.s.EOL() + body
	}
	p.ed.Replace(sp.Start, sp.End, head)
	p.ed.Replace(sp.LineEnd, sp.ContentEnd, body)
	return nil
}

// insertKeys adds lines (already `key: value`, nested lines indented
// relative to the key) at the end of block mapping f, at its keys' column.
func (p *planner) insertKeys(f *fields, lines []string) error {
	if f.c.Flow {
		return errAt(f.n.Line, ErrUnsupported, "cannot add %q to a flow-style mapping; write it as a block mapping", strings.SplitN(lines[0], ":", 2)[0])
	}
	at, err := p.s.After(f.n.Content[len(f.n.Content)-1], f.c)
	if err != nil {
		return err
	}
	p.insertLines(at, indent(lines, f.c.Indent))
	return nil
}

// indent prefixes every line with n spaces.
func indent(lines []string, n int) []string {
	pad := strings.Repeat(" ", n)
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = pad + l
	}
	return out
}

// insertLines inserts whole lines at line start at, using the file's line
// break. At the end of a file without a final line break the lines go
// after a new break and the file still ends without one.
//
// Structures that end on the same line get their additions at the same
// offset, and the innermost must come first or its lines would land in
// the outer one: a key for the last entry before a new entry, a new
// entry before a new cluster key. Inner means deeper indented, and at
// equal indentation a list item ('-'), as a flush list sits at its key's
// column.
func (p *planner) insertLines(at int, lines []string) {
	if len(lines) == 0 {
		return
	}
	body := strings.TrimLeft(lines[0], " ")
	rank := 2 * (len(lines[0]) - len(body))
	if strings.HasPrefix(body, "-") {
		rank++
	}
	var b strings.Builder
	eol := p.s.EOL()
	if at >= len(p.s.Bytes()) && !p.s.EndsWithBreak() {
		for _, l := range lines {
			b.WriteString(eol)
			b.WriteString(l)
		}
	} else {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString(eol)
		}
	}
	p.ed.Insert(at, b.String(), rank)
}

// removeKey deletes fld's line when the key and value have it to
// themselves (comments aside); otherwise the value becomes false, which
// reads the same for a boolean flag.
func (p *planner) removeKey(f *fields, fld field) error {
	k, v := f.key[fld], f.val[fld]
	ks := p.s.Offset(k.Line, k.Column)
	ve, err := p.s.NodeEnd(v, f.c)
	if err != nil {
		return err
	}
	ls, le := p.s.LineStart(ks), p.s.LineEnd(ve)
	own := !f.c.Flow && len(f.n.Content) > 2
	for i := ls; own && i < ks; i++ {
		own = p.s.IsBlank(i)
	}
	for i := ve; own && i < le; i++ {
		if p.s.Bytes()[i] == '#' {
			break
		}
		own = p.s.IsBlank(i)
	}
	if !own {
		return p.setValue(f, fld, "false", true)
	}
	end := p.s.NextLine(ve)
	if end >= len(p.s.Bytes()) && !p.s.EndsWithBreak() && ls > 0 {
		// Last line without a break: take the break before it instead,
		// so the file keeps ending without one.
		p.ed.Replace(p.s.BreakBefore(ls), len(p.s.Bytes()), "")
		return nil
	}
	p.ed.Replace(ls, end, "")
	return nil
}

// fillEmpty gives key k, whose value v is empty, null, [] or {}, the
// block content lines instead (absolute indentation). The empty value's
// text goes, a comment after it stays.
func (p *planner) fillEmpty(k, v *yaml.Node, c yamlsrc.Ctx, lines []string) error {
	if c.Flow || k.Kind != yaml.ScalarNode || v.Anchor != "" || len(v.Content) > 0 {
		return errAt(v.Line, ErrUnsupported, "cannot add a block under %q here", k.Value)
	}
	ks := p.s.ScalarSpan(k, c)
	vs := p.s.Offset(v.Line, v.Column)
	ve, err := p.s.NodeEnd(v, c)
	if err != nil {
		return err
	}
	if p.s.LineIndex(ks.End) != p.s.LineIndex(vs) || ks.Block {
		return errAt(v.Line, ErrUnsupported, "cannot add a block under %q: its value is not on the key's line", k.Value)
	}
	if ve > vs {
		p.ed.Replace(ks.End, ve, ":")
	}
	p.insertLines(p.s.NextLine(ve), lines)
	return nil
}

// keyText renders a mapping key (a cluster name). yaml.v3 refuses simple
// keys over 1024 characters.
func (p *planner) keyText(name string, line int) (string, error) {
	t := yamlsrc.Render(name, p.guide.keyStyle(), yamlsrc.WriteOpts{})
	if len(t) > 1000 {
		return "", errAt(line, ErrUnsupported, "cluster name of %d bytes is too long for a YAML key", len(name))
	}
	return t, nil
}
