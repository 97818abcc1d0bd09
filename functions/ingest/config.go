package ingest

import (
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/config"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Config is the ingest's part of the environment.
type Config struct {
	RedisURL       string // REDIS_URL; "" lets the local run embed a Redis
	KeyPrefix      string // REDIS_KEY_PREFIX
	Tokens         Tokens // INGEST_TOKENS and INGEST_TOKENS_FILE
	EnvTokens      Tokens // INGEST_TOKENS alone, kept when the file is re-read
	TokensFile     string // INGEST_TOKENS_FILE, re-read while running
	TokensFileData []byte // the file's content read at start, the reload's baseline
	Open           bool   // INGEST_AUTH=none: no tokens, deliberately
	MaxItems       int    // INGEST_MAX_ITEMS
	MaxBodyBytes   int64  // INGEST_MAX_BODY_BYTES
	RequestTimeout time.Duration

	MaxInFlightBytes    int64 // INGEST_MAX_INFLIGHT_BYTES
	MaxClaimsPerCluster int   // INGEST_MAX_CLAIMS_PER_CLUSTER
}

// --help lists what ConfigFromEnv reads.
var _ = config.Register(ConfigFromEnv)

// ConfigFromEnv reads the ingest variables, recording every problem in e.
func ConfigFromEnv(e *config.Env) Config {
	c := Config{
		RedisURL:       e.Get("REDIS_URL"),
		KeyPrefix:      e.String("REDIS_KEY_PREFIX", "{msc}"),
		MaxItems:       e.Int("INGEST_MAX_ITEMS", DefaultMaxItems, 1, 100000),
		MaxBodyBytes:   int64(e.Int("INGEST_MAX_BODY_BYTES", DefaultMaxBodyBytes, 1024, 256<<20)),
		RequestTimeout: e.Duration("INGEST_REQUEST_TIMEOUT", 10*time.Second, 100*time.Millisecond),
	}
	c.MaxInFlightBytes = int64(e.Int("INGEST_MAX_INFLIGHT_BYTES", DefaultMaxInFlightBytes, 1<<20, 1<<30))
	c.MaxClaimsPerCluster = e.Int("INGEST_MAX_CLAIMS_PER_CLUSTER", store.DefaultClaimLimit, 1, 10_000_000)
	if v := e.Get("INGEST_TOKENS"); v != "" {
		t, err := ParseTokens([]byte(v))
		if err != nil {
			e.Fail("INGEST_TOKENS", "%v", err)
		}
		c.Tokens, c.EnvTokens = t, t
	}
	c.TokensFile = e.Get("INGEST_TOKENS_FILE")
	if b := e.File("INGEST_TOKENS_FILE"); b != nil {
		t, err := ParseTokens(b)
		if err != nil {
			e.Fail("INGEST_TOKENS_FILE", "%v", err)
		}
		c.Tokens = c.EnvTokens.with(t)
		c.TokensFileData = b
	}
	switch auth := e.Get("INGEST_AUTH"); auth {
	case "", "tokens":
	case "none":
		c.Open = true
	default:
		e.Fail("INGEST_AUTH", "%q is not tokens or none", auth)
	}
	return c
}

// RequireAuth records a problem unless the deployed ingest has tokens or
// INGEST_AUTH=none says, explicitly, that it runs open: an emptied Secret
// must not turn into an open API. With INGEST_AUTH=none, tokens are a
// contradiction and refused too.
func (c Config) RequireAuth(e *config.Env) {
	switch {
	case c.Open && c.Tokens.Len() > 0:
		e.Fail("INGEST_AUTH", "is none but INGEST_TOKENS or INGEST_TOKENS_FILE holds tokens; unset one of them")
	case !c.Open && c.Tokens.Len() == 0:
		e.Fail("INGEST_AUTH", "no tokens: set INGEST_TOKENS or INGEST_TOKENS_FILE (with at least one entry), or INGEST_AUTH=none to serve an open API deliberately")
	}
}

// authMode names how requests are authenticated, for the start line.
func (c Config) authMode() string {
	if c.Tokens.Len() == 0 {
		return "open"
	}
	if c.TokensFile != "" {
		return "tokens, file re-read every " + tokensReloadInterval.String()
	}
	return "tokens"
}
