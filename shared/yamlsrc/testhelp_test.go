package yamlsrc

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// parseDocs parses every document of src, as a caller of this package does.
func parseDocs(src []byte) ([]*yaml.Node, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}
