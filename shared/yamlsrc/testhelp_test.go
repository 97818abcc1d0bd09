package yamlsrc

import "gopkg.in/yaml.v3"

// parseDocs parses src, one document, as a caller of this package does.
func parseDocs(src []byte) ([]*yaml.Node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, err
	}
	return []*yaml.Node{&n}, nil
}
