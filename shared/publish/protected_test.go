package publish

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v66/github"

	"github.com/stuttgart-things/machinery-status-collector/shared/githubfake"
)

// appEnv is newEnv with GitHub App auth.
func appEnv(t *testing.T, mod ...func(*Config)) *env {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, 10, append([]func(*Config){func(c *Config) {
		c.Token, c.AppID, c.AppInstallationID, c.AppPrivateKeyFile = "", 123, 456, keyFile
	}}, mod...)...)
	e.srv.RegisterApp(123, &key.PublicKey, 456)
	return e
}

func requireVerified(c *Config) { c.PR.RequireVerified = true }

func TestVerifiedCommits(t *testing.T) {
	t.Run("app", func(t *testing.T) {
		e := appEnv(t, requireVerified)
		o := e.mustRun(registry(10, 1), desired(1))
		c, _ := e.repo.Commit(e.branchHead())
		if o.res.Verified == nil || !*o.res.Verified || o.res.VerificationReason != "valid" || !c.Verified || c.Author != githubfake.AppBot {
			t.Fatalf("result %+v, commit %+v", o.res, c)
		}
		// With the state lost, the head is recognised as ours by the bot
		// identity, the signature and the trailer, not by the author name.
		e.st = State{}
		o = e.mustRun(registry(10, 2), desired(2))
		if o.res.Action == ActionForeignCommit || len(e.repo.OpenPulls()) != 1 {
			t.Fatalf("own App commit taken for foreign: %+v", o.res)
		}
	})
	t.Run("token", func(t *testing.T) {
		e := newEnv(t, 10)
		o := e.mustRun(registry(10, 1), desired(1))
		if o.res.Verified == nil || *o.res.Verified || o.res.VerificationReason != "unsigned" {
			t.Fatalf("result %+v", o.res)
		}
	})
	t.Run("token, verification required", func(t *testing.T) {
		e := newEnv(t, 10, requireVerified)
		o := e.run(e.ctx(time.Minute), registry(10, 1), desired(1))
		if o.err == nil || !strings.Contains(o.err.Error(), "REGISTRY_REQUIRE_VERIFIED") || !strings.Contains(o.err.Error(), "GITHUB_TOKEN") {
			t.Fatalf("err %v", o.err)
		}
		if _, ok := e.repo.Branch(prBranch); ok || len(e.repo.Pulls()) != 0 {
			t.Fatal("an unverified commit was pushed")
		}
	})
}

// TestForeignBotCommitIsForeign: with App auth a commit that carries the
// trailer but is not the App's verified commit is someone else's.
func TestForeignBotCommitIsForeign(t *testing.T) {
	e := appEnv(t)
	e.mustRun(registry(10, 1), desired(1))
	// Someone with a token commits as a "[bot]" with the trailer.
	c := e.srv.Client()
	ctx := context.Background()
	head := e.branchHead()
	old, _ := e.repo.Commit(head)
	bot := &github.CommitAuthor{Name: github.String("evil[bot]"), Email: github.String("evil@example.org")}
	made, _, err := c.Git.CreateCommit(ctx, "o", "r", &github.Commit{
		Message: github.String("Update\n\n" + commitTrailer + "\n"), Tree: &github.Tree{SHA: github.String(old.Tree)},
		Parents: []*github.Commit{{SHA: github.String(head)}}, Author: bot,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Git.UpdateRef(ctx, "o", "r", &github.Reference{Ref: github.String("refs/heads/" + prBranch), Object: &github.GitObject{SHA: made.SHA}}, true); err != nil {
		t.Fatal(err)
	}
	e.st = State{}
	if o := e.mustRun(registry(10, 2), desired(2)); o.res.Action != ActionForeignCommit {
		t.Fatalf("%+v", o.res)
	}
}

func TestTemplatesAndDraft(t *testing.T) {
	e := newEnv(t, 10, func(c *Config) {
		c.PR.TitleTemplate = "registry({{.Path}}): {{.Changed}} changed in {{.Clusters}} clusters"
		c.PR.CommitTemplate = "chore(registry): {{.Changed}} claims\n\n{{.NotReady}} not ready"
		c.PR.Draft = true
	})
	d := desired(1)
	d.Fields = &TemplateFields{Path: "r.yaml", Changed: 3, NotReady: 1, Clusters: 2}
	e.mustRun(registry(10, 1), d)
	pr := e.onePR()
	c, _ := e.repo.Commit(e.branchHead())
	if pr.Title != "registry(r.yaml): 3 changed in 2 clusters" || !pr.Draft {
		t.Fatalf("PR %q draft %v", pr.Title, pr.Draft)
	}
	if want := "chore(registry): 3 claims\n\n1 not ready\n\n" + commitTrailer + "\n"; c.Message != want {
		t.Fatalf("commit message %q, want %q", c.Message, want)
	}
}

func TestTexts(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tt := range []struct {
		name, title, commit string
		f                   TemplateFields
		wantTitle           string
		wantCommit          string
	}{
		{"default", "", "", TemplateFields{Changed: 3}, "chore(registry): update claim status (3 changed)", "chore(registry): update claim status (3 changed)"},
		{"default with deletions", "", "", TemplateFields{Changed: 1, Deleted: 2, Missing: 4}, "chore(registry): update claim status (1 changed, 2 deleted, 4 not in registry)", "chore(registry): update claim status (1 changed, 2 deleted, 4 not in registry)"},
		{"one line", "a\n  b", "", TemplateFields{}, "a b", "a b"},
		{"cut to GitHub's limit", "{{.Path}}", "", TemplateFields{Path: long + "é"}, long[:255] + "…", long[:255] + "…"},
		{"commit template", "t", "c {{.Missing}}\n", TemplateFields{Missing: 2}, "t", "c 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			title, commit, err := PRConfig{TitleTemplate: tt.title, CommitTemplate: tt.commit}.Texts(tt.f)
			if err != nil || title != tt.wantTitle || commit != tt.wantCommit {
				t.Fatalf("%v %q %q, want %q %q", err, title, commit, tt.wantTitle, tt.wantCommit)
			}
			if n := len([]rune(title)); n > MaxTitleChars {
				t.Fatalf("title of %d characters", n)
			}
		})
	}
}

func TestPRConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"REGISTRY_FILE_PATH": "r.yaml", "REGISTRY_REQUIRE_VERIFIED": "maybe", "REGISTRY_AUTOMERGE": "fast",
		"REGISTRY_PR_TITLE": "{{.Nope}}", "REGISTRY_COMMIT_MESSAGE": "{{", "REGISTRY_PR_DRAFT": "true",
		"REGISTRY_PR_REVIEWERS": "alice, bob", "REGISTRY_PR_TEAM_REVIEWERS": "platform", "REGISTRY_PR_ASSIGNEES": "carol",
	}
	c, err := ConfigFromEnv(func(k string) string { return env[k] })
	for _, want := range []string{
		`REGISTRY_REQUIRE_VERIFIED must be true or false, got "maybe"`,
		`REGISTRY_AUTOMERGE must be squash, merge or rebase, got "fast"`,
		"REGISTRY_PR_TITLE: template: REGISTRY_PR_TITLE:1:2: executing",
		"REGISTRY_COMMIT_MESSAGE: template: REGISTRY_COMMIT_MESSAGE:1: unclosed action",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	if !c.PR.Draft || strings.Join(c.PR.Reviewers, "|") != "alice|bob" || c.PR.TeamReviewers[0] != "platform" || c.PR.Assignees[0] != "carol" {
		t.Fatalf("%+v", c.PR)
	}
}

func TestReviewersRequestedOnce(t *testing.T) {
	e := newEnv(t, 10, func(c *Config) {
		c.PR.Reviewers, c.PR.TeamReviewers, c.PR.Assignees = []string{"alice"}, []string{"platform"}, []string{"bob"}
	})
	e.repo.AddCollaborators("alice", "bob")
	e.repo.AddTeams("platform")
	o := e.mustRun(registry(10, 1), desired(1))
	pr := e.onePR()
	if strings.Join(pr.Reviewers, ",") != "alice" || strings.Join(pr.Teams, ",") != "platform" || strings.Join(pr.Assignees, ",") != "bob" || o.res.Note != "" {
		t.Fatalf("PR %+v, note %q", pr, o.res.Note)
	}
	// Later edits do not ask again, even after alice reviewed (and so
	// left the requested list).
	e.repo.SubmitReview(pr.Number, "alice")
	for gen := 2; gen <= 3; gen++ {
		e.mustRun(registry(10, gen), desired(gen))
	}
	if n := e.callsTo("POST", "/requested_reviewers") + e.callsTo("POST", "/assignees"); n != 2 {
		t.Fatalf("%d review/assignee calls over three runs, want 2", n)
	}
}

func TestUnknownReviewerReportedOnce(t *testing.T) {
	e := newEnv(t, 10, func(c *Config) { c.PR.Reviewers = []string{"mallory"} })
	o := e.mustRun(registry(10, 1), desired(1))
	if !strings.Contains(o.res.Note, "review request [mallory] not set") || !strings.Contains(o.res.Note, "collaborators") {
		t.Fatalf("note %q", o.res.Note)
	}
	o = e.mustRun(registry(10, 2), desired(2))
	if o.res.Note != "" || e.callsTo("POST", "/requested_reviewers") != 1 {
		t.Fatalf("second run: note %q, %d requests", o.res.Note, e.callsTo("POST", "/requested_reviewers"))
	}
	// A new PR asks again.
	e.repo.ClosePull(e.onePR().Number)
	e.mustRun(registry(10, 3), desired(3))
	if n := e.callsTo("POST", "/requested_reviewers"); n != 2 {
		t.Fatalf("%d requests after a new PR, want 2", n)
	}
}
