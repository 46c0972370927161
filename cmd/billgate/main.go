// Command billgate is the billing platform's API server: one registry of service
// methods served as REST and JSON-RPC 2.0 on one port.
//
// Usage:
//
//	billgate serve                        run the server (the default)
//	billgate migrate                      apply database migrations and exit
//	billgate users create -login L -password P [-role admin] [-reseller N]
//	billgate apikeys create -user LOGIN [-mode live|test]
//	billgate version
//
// Global flag: -config FILE (default configs/billgate.yaml when present).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/billgate/billgate/pkg/tz"
	"github.com/billgate/billgate/service"
	"github.com/billgate/billgate/store"
)

// Build information, set with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// apiVersion is the newest API version (seed 000: a date).
const apiVersion = "2026-11-21"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "billgate:", err)
		os.Exit(1)
	}
}

// run is the whole program, callable from tests: args without the program
// name, the environment as a function, and the output streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	global := flag.NewFlagSet("billgate", flag.ContinueOnError)
	global.SetOutput(stderr)
	configPath := global.String("config", "", "configuration file (default configs/billgate.yaml when present)")
	if err := global.Parse(args); err != nil {
		return err
	}
	args = global.Args()
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "version" {
		fmt.Fprintf(stdout, "billgate %s (API %s)\n", version, apiVersion)
		return nil
	}
	cfg, err := loadConfig(*configPath, getenv)
	if err != nil {
		return err
	}
	// The log is buffered (logwriter.go): a write(2) per call line cost ~5%
	// of the server's CPU. A crash can lose at most ~100 ms of info lines;
	// errors are written at once. Everything is flushed before run returns,
	// and the text run prints itself to stderr from here on (the first
	// start's credentials, usage) goes through the same writer, in order,
	// flushed at once.
	lw := newLogWriter(stderr)
	defer lw.Close()
	stderr = lw.syncWriter()
	log, err := newLogger(lw, cfg.LogLevel)
	if err != nil {
		return err
	}
	app, err := open(ctx, cfg, log, cmd == "migrate" || cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer app.store.Close()
	switch cmd {
	case "serve":
		if len(args) > 0 {
			return fmt.Errorf("serve takes no arguments, got %q", args)
		}
		return serve(ctx, cfg, app, stderr)
	case "migrate":
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "users":
		return usersCmd(ctx, app, args, stdout, stderr)
	case "apikeys":
		return apikeysCmd(ctx, app, args, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, users, apikeys or version)", cmd)
	}
}

// app is the wired program.
type app struct {
	cfg   Config
	log   *slog.Logger
	store *store.Store
	svc   *service.Service
}

func open(ctx context.Context, cfg Config, log *slog.Logger, migrate bool) (*app, error) {
	loc, err := tz.Load(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("config timezone: %w", err)
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	svc := service.New(service.Config{
		Name: "billgate", Version: version, APIVersion: apiVersion, Location: loc,
		JWTSecret: cfg.JWTSecret, JWTTTL: cfg.JWTTTL, CallTimeout: cfg.CallTimeout,
		AuthCacheTTL: cfg.AuthCacheTTL,
	}, st, service.SystemClock{}, log)
	return &app{cfg: cfg, log: log, store: st, svc: svc}, nil
}

// newLogger writes JSON lines to w. When w buffers (has Flush, as logWriter),
// records at level ERROR and above are flushed before the log call returns.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("config log_level: %w", err)
	}
	var h slog.Handler = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})
	if f, ok := w.(interface{ Flush() error }); ok {
		h = flushOnError{next: h, w: f}
	}
	return slog.New(h), nil
}

// call runs a method as the system operator (the command line).
func (a *app) call(ctx context.Context, method string, args service.Args) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return a.svc.Invoke(ctx, service.NewSystemSession(), method, args)
}

// isConflict reports a duplicate (a concurrent first start).
func isConflict(err error) bool {
	var e *service.Error
	return errors.As(err, &e) && e.Code == service.CodeConflict
}

func splitFlags(args []string) (string, []string) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", args
	}
	return args[0], args[1:]
}
