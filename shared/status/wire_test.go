package status

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeBatch(t *testing.T) {
	body := `{"cluster":"a","extra":{"x":[1,2.5e3,true,null,"s"]},"items":[` +
		`{"claimRef":"ns/n","statusMessage":"line\n\"q\" \u00e9 \ud83d\ude00","ready":"True","generation":7,"observedGeneration":-1,"deleted":false,"kind":null},` +
		`{"claimRef":"ns/m","statusMessage":"m","deleted":true}]}`
	got, err := DecodeBatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var want Batch
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeBatch = %+v\nencoding/json = %+v", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{``, "body: empty; send a JSON object"},
		{`[]`, "body: expected a JSON object at byte 0"},
		{`{"cluster":`, "cluster: expected a string, got end of input (truncated JSON)"},
		{`{"cluster":"a","items":[{"claimRef":"ns/a","generation":"7"}]}`, "items[0].generation: expected an integer at byte 56"},
		{`{"cluster":"a","items":[{},{"generation":1.5}]}`, "items[1].generation: expected an integer at byte 41"},
		{`{"cluster":"a","items":[{},{"deleted":"yes"}]}`, "items[1].deleted: expected true or false at byte 38"},
		{`{"cluster":"a","items":{}}`, "items: expected a JSON array at byte 23"},
		{`{"cluster":"a"} {}`, "body: unexpected data after the JSON object at byte 16"},
		{"{\"cluster\":\"a\x01\"}", "cluster: control character in string at byte 13"},
		{`{"cluster":"\x"}`, `cluster: invalid escape \x at byte 12`},
		{`{"cluster":"a" "x"}`, "body: expected ',' or '}' at byte 15"},
		{`{"items":[{"generation":99999999999999999999}]}`, "items[0].generation: integer out of range at byte 24"},
		{"{\"cluster\":\"\xff\"}", "cluster: invalid UTF-8 in string at byte 12"},
		{`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "body: nested deeper than 64 levels"},
	}
	for _, tt := range tests {
		_, err := DecodeBatch([]byte(tt.body))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("DecodeBatch(%q) = %v, want %q", tt.body, err, tt.want)
		}
	}
	if _, err := DecodeRecord([]byte(`{"cluster":"a","claimRef":"ns/a","statusMessage":"m","uid":7}`)); err == nil || err.Error() != "uid: expected a string at byte 59" {
		t.Errorf("DecodeRecord uid number = %v", err)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	recs := []Record{
		{},
		{Cluster: "c", ClaimRef: "ns/n", StatusMessage: "plain"},
		{Cluster: "c", ClaimRef: "ns/n", Kind: "K.g", UID: "u", StatusMessage: "<a&b> \"q\" \\ \n\r\t\b\f \x01 \u2028\u2029 é 😀 \xff",
			Ready: "True", Reason: "R", Synced: "False", Generation: -3, ObservedGeneration: 9, ObservedAt: "t1", ReceivedAt: "t2", Deleted: true},
	}
	for _, r := range recs {
		want, _ := json.Marshal(&r)
		if got := r.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON =\n%s\nwant\n%s", got, want)
		}
	}
}

// FuzzDecodeBatch checks the decoder against encoding/json: same result for
// every input both accept, and never a panic.
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"cluster":"a","items":[{"claimRef":"ns/n","statusMessage":"m","generation":1,"deleted":true}]}`))
	f.Add([]byte(`{"items":[{"statusMessage":"\u00e9\ud83d\ude00\n"}],"other":[1,{"a":null}]}`))
	f.Add([]byte(`{"cluster":null,"items":null}`))
	f.Add([]byte(`{"items":[{"\u0073tatusMessage":"\ud800 \udc00x \ud83dA"}]}`))
	f.Add([]byte(`{"cluster":"\ud800\u00e9\udbff\udfff\ud800\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeBatch(data)
		var want Batch
		werr := json.Unmarshal(data, &want)
		if err != nil || werr != nil || !utf8.Valid(data) || hasCaseVariantKey(data) {
			return // error texts differ by design; encoding/json also matches keys case-insensitively
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeBatch(%q) = %+v, encoding/json = %+v", data, got, want)
		}
		for i := range got.Items {
			enc, _ := json.Marshal(&got.Items[i])
			if string(got.Items[i].AppendJSON(nil)) != string(enc) {
				t.Fatalf("AppendJSON differs for %+v", got.Items[i])
			}
		}
	})
}

// hasCaseVariantKey reports whether data, valid JSON, holds a key that
// encoding/json would match case-insensitively to a field while
// DecodeBatch, which matches exactly, would not. Keys are compared after
// unescaping, so escaped keys and strings with \u escapes (lone
// surrogates included) are still compared with encoding/json.
func hasCaseVariantKey(data []byte) bool {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return true
	}
	fields := []string{"cluster", "items", "claimRef", "kind", "uid", "statusMessage", "ready", "reason", "synced",
		"generation", "observedGeneration", "observedAt", "receivedAt", "deleted", "lastTransitionTime"}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				for _, f := range fields {
					if k != f && strings.EqualFold(k, f) {
						return true
					}
				}
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
