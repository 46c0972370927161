package main

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// Config is the program's configuration: built-in defaults, then
// configs/billgate.yaml (or --config / BILLGATE_CONFIG), then BILLGATE_*
// environment variables (BILLGATE_DATABASE_URL sets database_url).
type Config struct {
	Listen            string        `koanf:"listen"`
	DatabaseURL       string        `koanf:"database_url"`
	Timezone          string        `koanf:"timezone"`
	JWTSecret         string        `koanf:"jwt_secret"`
	JWTTTL            time.Duration `koanf:"jwt_ttl"`
	AdminAPIKey       string        `koanf:"admin_api_key"`
	AdminPassword     string        `koanf:"admin_password"`
	AutoMigrate       bool          `koanf:"auto_migrate"`
	MaxBodyBytes      int64         `koanf:"max_body_bytes"`
	MaxBatch          int           `koanf:"max_batch"`
	BatchConcurrency  int           `koanf:"batch_concurrency"`
	CallTimeout       time.Duration `koanf:"call_timeout"`
	AuthCacheTTL      time.Duration `koanf:"auth_cache_ttl"`
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	ReadTimeout       time.Duration `koanf:"read_timeout"`
	WriteTimeout      time.Duration `koanf:"write_timeout"`
	IdleTimeout       time.Duration `koanf:"idle_timeout"`
	ShutdownTimeout   time.Duration `koanf:"shutdown_timeout"`
	LogLevel          string        `koanf:"log_level"`
}

// defaults mirror configs/billgate.yaml, so the binary runs without the file.
var defaults = map[string]any{
	"listen":              ":3080",
	"database_url":        "sqlite://data/billgate.db",
	"timezone":            "UTC",
	"jwt_ttl":             "1h",
	"auto_migrate":        true,
	"max_body_bytes":      5 << 20,
	"max_batch":           1000,
	"batch_concurrency":   8,
	"call_timeout":        "30s",
	"auth_cache_ttl":      "5s",
	"read_header_timeout": "5s",
	"read_timeout":        "30s",
	"write_timeout":       "60s",
	"idle_timeout":        "120s",
	"shutdown_timeout":    "30s",
	"log_level":           "info",
}

// loadConfig merges defaults, the YAML file and the environment.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return Config{}, err
	}
	if path == "" {
		path = getenv("BILLGATE_CONFIG")
	}
	explicit := path != ""
	if path == "" {
		path = "configs/billgate.yaml"
	}
	if _, err := os.Stat(path); err == nil {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
	} else if explicit {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	env := map[string]any{}
	t := reflect.TypeFor[Config]()
	for i := 0; i < t.NumField(); i++ {
		key := t.Field(i).Tag.Get("koanf")
		if v := getenv("BILLGATE_" + strings.ToUpper(key)); v != "" {
			env[key] = v
		}
	}
	if err := k.Load(confmap.Provider(env, "."), nil); err != nil {
		return Config{}, err
	}
	var c Config
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if c.MaxBodyBytes <= 0 || c.MaxBatch <= 0 || c.BatchConcurrency <= 0 {
		return Config{}, fmt.Errorf("config: max_body_bytes, max_batch and batch_concurrency must be positive")
	}
	return c, nil
}
