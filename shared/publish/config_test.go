package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings, all must appear
		check   func(t *testing.T, c Config)
	}{
		{
			name: "local defaults",
			env:  map[string]string{"REGISTRY_FILE_PATH": "registry.yaml"},
			check: func(t *testing.T, c Config) {
				if c.UseGitHub() || c.BaseBranch != "main" || c.Branch != DefaultBranch || c.LocalDir != ".local/pr" {
					t.Fatalf("%+v", c)
				}
			},
		},
		{
			name: "token",
			env: map[string]string{
				"REGISTRY_FILE_PATH": "r.yaml", "REGISTRY_REPO_OWNER": "o", "REGISTRY_REPO_NAME": "r",
				"GITHUB_TOKEN": "ghp_x", "REGISTRY_PR_LABELS": " registry, ,automated ", "REGISTRY_BASE_BRANCH": "develop",
				"GITHUB_API_URL": "https://ghe.example.com/api/v3/",
			},
			check: func(t *testing.T, c Config) {
				if !c.UseGitHub() || !reflect.DeepEqual(c.Labels, []string{"registry", "automated"}) || c.BaseBranch != "develop" || c.APIURL == "" {
					t.Fatalf("%+v", c)
				}
			},
		},
		{
			name: "app",
			env: map[string]string{
				"REGISTRY_FILE_PATH": "r.yaml", "REGISTRY_REPO_OWNER": "o", "REGISTRY_REPO_NAME": "r",
				"GITHUB_APP_ID": "12", "GITHUB_APP_INSTALLATION_ID": "34", "GITHUB_APP_PRIVATE_KEY_FILE": "/k.pem",
			},
			check: func(t *testing.T, c Config) {
				if c.AppID != 12 || c.AppInstallationID != 34 || !c.UseGitHub() {
					t.Fatalf("%+v", c)
				}
			},
		},
		{
			name:    "every problem at once",
			env:     map[string]string{"GITHUB_TOKEN": "t", "GITHUB_APP_ID": "x", "REGISTRY_PR_BRANCH": "main"},
			wantErr: []string{"GITHUB_APP_ID must be a positive integer", "REGISTRY_FILE_PATH is required", "REGISTRY_REPO_OWNER is required", "REGISTRY_REPO_NAME is required", "must differ", "not both", "GITHUB_APP_INSTALLATION_ID is required", "GITHUB_APP_PRIVATE_KEY_FILE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(envOf(tt.env))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatal("want errors")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const tok = "ghp_SECRETSECRETSECRET"
	c := Config{Token: tok, Owner: "o"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", c, "token", c.Token)
	js, _ := json.Marshal(c)
	outputs := []string{
		fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", c.Token),
		fmt.Errorf("wrap %v", c).Error(), logs.String(), string(js),
	}
	for _, out := range outputs {
		if strings.Contains(out, tok) {
			t.Fatalf("token leaked: %s", out)
		}
	}
	if Secret("").String() != "" || c.Token.String() != redacted {
		t.Fatal("String")
	}
}

func TestNewPicksPublisher(t *testing.T) {
	p, err := New(Config{Path: "r.yaml"}, Options{})
	if _, ok := p.(*Local); err != nil || !ok {
		t.Fatalf("want local: %T %v", p, err)
	}
	p, err = New(Config{Path: "r.yaml", Owner: "o", Repo: "r", Token: "t"}, Options{})
	if _, ok := p.(*GitHub); err != nil || !ok {
		t.Fatalf("want github: %T %v", p, err)
	}
	if _, err := New(Config{Path: "r.yaml", Token: "t"}, Options{}); err == nil {
		t.Fatal("want missing owner/repo")
	}
	if _, err := NewGitHub(Config{Path: "r.yaml", Owner: "o", Repo: "r"}, Options{}); err == nil {
		t.Fatal("want missing credentials")
	}
	_, err = New(Config{Path: "r.yaml", Owner: "o", Repo: "r", AppID: 1, AppInstallationID: 2, AppPrivateKeyFile: "/nonexistent.pem"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "github app 1") {
		t.Fatalf("want unreadable key error, got %v", err)
	}
}

// EnvDefaults, which --help lists, are the values ConfigFromEnv fills in.
func TestEnvDefaultsAreTheFilledDefaults(t *testing.T) {
	c, _ := ConfigFromEnv(func(string) string { return "" })
	got := map[string]string{"REGISTRY_BASE_BRANCH": c.BaseBranch, "REGISTRY_PR_BRANCH": c.Branch, "REGISTRY_LOCAL_PR_DIR": c.LocalDir}
	if !maps.Equal(got, EnvDefaults) {
		t.Fatalf("filled %v, EnvDefaults %v", got, EnvDefaults)
	}
}
