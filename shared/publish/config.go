package publish

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Defaults for Config fields left empty.
const (
	DefaultBaseBranch  = "main"
	DefaultBranch      = "machinery-status-collector/registry"
	DefaultLocalDir    = ".local/pr"
	DefaultAuthorName  = "machinery-status-collector"
	DefaultAuthorEmail = "machinery-status-collector@users.noreply.github.com"
)

// EnvDefaults are the defaults ConfigFromEnv fills in for unset
// variables, for --help to list.
var EnvDefaults = map[string]string{
	"REGISTRY_BASE_BRANCH":  DefaultBaseBranch,
	"REGISTRY_PR_BRANCH":    DefaultBranch,
	"REGISTRY_LOCAL_PR_DIR": DefaultLocalDir,
}

// Secret is a credential. It prints, logs and marshals as "[redacted]",
// so a Config can be logged or wrapped into an error without leaking it.
type Secret string

const redacted = "[redacted]"

// String hides the value; use string(s) where the credential is needed.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue hides the value from log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText hides the value from encoding/json and friends.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Config says where the registry lives and how to reach it.
type Config struct {
	Owner      string   // REGISTRY_REPO_OWNER
	Repo       string   // REGISTRY_REPO_NAME
	Path       string   // REGISTRY_FILE_PATH: in the repository, or on disk for Local
	BaseBranch string   // REGISTRY_BASE_BRANCH, default DefaultBaseBranch
	Branch     string   // REGISTRY_PR_BRANCH, default DefaultBranch
	Labels     []string // REGISTRY_PR_LABELS, comma-separated
	APIURL     string   // GITHUB_API_URL: GitHub Enterprise, e.g. https://ghe.example.com/api/v3/
	Token      Secret   // GITHUB_TOKEN
	// GitHub App auth, instead of Token.
	AppID             int64  // GITHUB_APP_ID
	AppInstallationID int64  // GITHUB_APP_INSTALLATION_ID
	AppPrivateKeyFile string // GITHUB_APP_PRIVATE_KEY_FILE
	// LocalDir is where Local writes the proposal (REGISTRY_LOCAL_PR_DIR).
	LocalDir string
	// AuthorName and AuthorEmail sign the collector's commits; a branch
	// head by anyone else is a foreign commit.
	AuthorName  string
	AuthorEmail string
	// PR fits the PR to the repository's conventions (see PRConfig).
	PR PRConfig
}

// ConfigFromEnv reads the publisher's variables through getenv (os.Getenv
// in production), fills defaults and validates, reporting every problem
// at once.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	// An unparsable id becomes -1: set (so App auth is what was meant)
	// but invalid, which Validate reports.
	parseID := func(name string) int64 {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return -1
		}
		return id
	}
	c := Config{
		Owner:             strings.TrimSpace(getenv("REGISTRY_REPO_OWNER")),
		Repo:              strings.TrimSpace(getenv("REGISTRY_REPO_NAME")),
		Path:              strings.TrimSpace(getenv("REGISTRY_FILE_PATH")),
		BaseBranch:        strings.TrimSpace(getenv("REGISTRY_BASE_BRANCH")),
		Branch:            strings.TrimSpace(getenv("REGISTRY_PR_BRANCH")),
		Labels:            splitList(getenv("REGISTRY_PR_LABELS")),
		APIURL:            strings.TrimSpace(getenv("GITHUB_API_URL")),
		Token:             Secret(strings.TrimSpace(getenv("GITHUB_TOKEN"))),
		AppID:             parseID("GITHUB_APP_ID"),
		AppInstallationID: parseID("GITHUB_APP_INSTALLATION_ID"),
		AppPrivateKeyFile: strings.TrimSpace(getenv("GITHUB_APP_PRIVATE_KEY_FILE")),
		LocalDir:          strings.TrimSpace(getenv("REGISTRY_LOCAL_PR_DIR")),
		PR:                prConfigFromEnv(getenv),
	}
	c = c.withDefaults()
	return c, c.Validate()
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// withDefaults fills empty fields.
func (c Config) withDefaults() Config {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.BaseBranch, DefaultBaseBranch)
	def(&c.Branch, DefaultBranch)
	def(&c.LocalDir, DefaultLocalDir)
	def(&c.AuthorName, DefaultAuthorName)
	def(&c.AuthorEmail, DefaultAuthorEmail)
	return c
}

// usesApp reports whether any GitHub App setting is present.
func (c Config) usesApp() bool {
	return c.AppID != 0 || c.AppInstallationID != 0 || c.AppPrivateKeyFile != ""
}

// UseGitHub reports whether the config names GitHub credentials (a token
// or App settings); without them the local publisher is used.
func (c Config) UseGitHub() bool { return c.Token != "" || c.usesApp() }

// Validate reports every problem of a defaulted config at once.
func (c Config) Validate() error {
	var errs []error
	need := func(v, name string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	if _, err := ParsePattern(c.Path); err != nil {
		errs = append(errs, err)
	}
	if c.UseGitHub() {
		need(c.Owner, "REGISTRY_REPO_OWNER")
		need(c.Repo, "REGISTRY_REPO_NAME")
		if c.Branch == c.BaseBranch {
			errs = append(errs, fmt.Errorf("REGISTRY_PR_BRANCH must differ from REGISTRY_BASE_BRANCH (both %q)", c.Branch))
		}
	}
	if c.usesApp() {
		if c.Token != "" {
			errs = append(errs, errors.New("set either GITHUB_TOKEN or the GITHUB_APP_* variables, not both"))
		}
		for _, v := range []struct {
			name string
			id   int64
		}{{"GITHUB_APP_ID", c.AppID}, {"GITHUB_APP_INSTALLATION_ID", c.AppInstallationID}} {
			switch {
			case v.id == 0:
				errs = append(errs, fmt.Errorf("%s is required with GitHub App auth", v.name))
			case v.id < 0:
				errs = append(errs, fmt.Errorf("%s must be a positive integer", v.name))
			}
		}
		need(c.AppPrivateKeyFile, "GITHUB_APP_PRIVATE_KEY_FILE (with GitHub App auth)")
	}
	errs = append(errs, c.PR.validate()...)
	return errors.Join(errs...)
}

// Options are the code-level knobs of a publisher; the zero value is
// production behaviour.
type Options struct {
	// HTTP is the base transport under the retrying Transport; default
	// http.DefaultTransport.
	HTTP http.RoundTripper
	// Clock drives rate-limit waits, backoffs and commit dates.
	Clock Clock
	// Logger receives retries, waits, label failures and the local diff.
	Logger *slog.Logger
	// OnCall is told of every GitHub call attempt (endpoint label and
	// status, 0 for a network error), e.g. to count them in Prometheus.
	OnCall func(endpoint string, status int)
	// MaxFileBytes is the largest registry file a proposal may hold;
	// 0 means GitHub's limit, MaxFileBytes. Tests lower it.
	MaxFileBytes int64
}

func (o Options) maxFile() int64 {
	if o.MaxFileBytes > 0 {
		return o.MaxFileBytes
	}
	return MaxFileBytes
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o Options) clock() Clock {
	if o.Clock != nil {
		return o.Clock
	}
	return RealClock
}

// New returns the GitHub publisher when cfg names credentials, else the
// local one.
func New(cfg Config, opt Options) (Publisher, error) {
	if cfg.UseGitHub() {
		return NewGitHub(cfg, opt)
	}
	return NewLocal(cfg, opt)
}
