package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/billgate/billgate/rest"
	"github.com/billgate/billgate/rpc"
)

// serve runs the HTTP server until ctx is cancelled (SIGTERM), then drains
// in-flight requests for up to shutdown_timeout.
func serve(ctx context.Context, cfg Config, a *app, stderr io.Writer) error {
	if err := bootstrap(ctx, a, stderr); err != nil {
		return err
	}
	go runJanitor(ctx, a)
	go runBillingWorker(ctx, a)
	srv := &http.Server{
		Handler:           handler(a),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	a.log.Info("listening", "addr", ln.Addr().String(), "database", a.store.Dialect())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.log.Info("stopped")
	return nil
}

// handler wires the transports on one echo instance: REST routes from the
// registry, JSON-RPC at POST /, the health probes and the Prometheus metrics
// (GET /metrics). It installs the metrics middleware on a.svc: call it once.
func handler(a *app) http.Handler {
	m := newMetrics(a.store.Dialect(), a.store.Stats)
	a.svc.Use(m.observeCalls)
	e := rest.New(a.svc, rest.Options{MaxBodyBytes: a.cfg.MaxBodyBytes, Logger: a.log})
	e.Use(m.observeHTTP)
	e.POST("/", echo.WrapHandler(rpc.NewHandler(a.svc, rpc.Options{
		MaxBodyBytes: a.cfg.MaxBodyBytes, MaxBatch: a.cfg.MaxBatch, Concurrency: a.cfg.BatchConcurrency, Logger: a.log,
		OnBatch: m.observeBatch,
	})))
	e.GET("/ws", echo.WrapHandler(rpc.NewWebSocketHandler(a.svc, rpc.WebSocketOptions{MaxMessageBytes: a.cfg.MaxBodyBytes, Concurrency: a.cfg.BatchConcurrency, Logger: a.log})))
	e.GET(rpc.OpenRPCPath, echo.WrapHandler(rpc.OpenRPCHandler(a.svc)))
	e.GET("/metrics", echo.WrapHandler(m.handler()))
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	return e
}
