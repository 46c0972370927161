package main

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/billgate/billgate/service"
)

// metrics are the Prometheus metrics of one server, on their own registry (so
// several servers can run in one process, as the end-to-end tests do). Every
// label value comes from a bounded set: method names from the registry (an
// unknown method never reaches the service chain), protocols, error codes,
// HTTP statuses and user ids of JWT sessions.
type metrics struct {
	reg *prometheus.Registry

	calls        *prometheus.CounterVec
	callDuration *prometheus.HistogramVec
	batchSize    prometheus.Histogram
	jwtCalls     *prometheus.CounterVec
	httpRequests *prometheus.CounterVec
	httpInFlight prometheus.Gauge

	callCache   sync.Map // callKey → *callObserver
	statusCache sync.Map // HTTP status → prometheus.Counter
}

// newMetrics registers billgate's metrics, the database pool collector over
// stats, and the Go runtime and process collectors on a fresh registry.
func newMetrics(dialect string, stats func() sql.DBStats) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billgate_calls_total",
			Help: "Method calls by method, protocol (rest, jsonrpc, ws) and result code (ok, or the error's data code).",
		}, []string{"method", "protocol", "code"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "billgate_call_duration_seconds",
			Help:    "Duration of method calls, from the transport handing the call to the service to its result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "protocol", "code"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billgate_jsonrpc_batch_size",
			Help:    "Elements of the JSON-RPC batches that ran.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
		jwtCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billgate_jwt_calls_total",
			Help: "Calls authenticated with a (deprecated) JWT, by user id.",
		}, []string{"user_id"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billgate_http_requests_total",
			Help: "HTTP requests by response status, including those refused before any method ran (401, 413, parse errors).",
		}, []string{"status"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "billgate_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	m.reg.MustRegister(m.calls, m.callDuration, m.batchSize, m.jwtCalls, m.httpRequests, m.httpInFlight,
		newDBStatsCollector(dialect, stats),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observeCalls is the service middleware (svc.Use) that counts and times every
// call, and counts the calls made with a JWT per user. It is installed
// outermost, so it sees the final result of the whole chain, panics included.
func (m *metrics) observeCalls(next service.Handler) service.Handler {
	return func(ctx context.Context, c *service.Call) (any, error) {
		res, err := next(ctx, c)
		code := "ok"
		if err != nil {
			code = string(service.CodeOf(err))
		}
		o := m.callSeries(c.Method.Name, c.Session.Protocol, code)
		o.calls.Inc()
		o.duration.Observe(time.Since(c.Start).Seconds())
		if p := c.Principal; p != nil && p.ViaJWT {
			m.jwtCalls.WithLabelValues(strconv.FormatInt(p.UserID, 10)).Inc()
		}
		return res, err
	}
}

// callKey names one series of the call metrics.
type callKey struct{ method, protocol, code string }

// callObserver holds the series of one callKey, looked up once: resolving
// label values hashes them on every call, a cost every call paid.
type callObserver struct {
	calls    prometheus.Counter
	duration prometheus.Observer
}

// callSeries returns the series of a method, protocol and code (a bounded
// set: registered methods × three protocols × error codes).
func (m *metrics) callSeries(method, protocol, code string) *callObserver {
	k := callKey{method, protocol, code}
	if o, ok := m.callCache.Load(k); ok {
		return o.(*callObserver)
	}
	o, _ := m.callCache.LoadOrStore(k, &callObserver{
		calls:    m.calls.WithLabelValues(method, protocol, code),
		duration: m.callDuration.WithLabelValues(method, protocol, code),
	})
	return o.(*callObserver)
}

// statusSeries returns the counter of HTTP responses with status.
func (m *metrics) statusSeries(status int) prometheus.Counter {
	if c, ok := m.statusCache.Load(status); ok {
		return c.(prometheus.Counter)
	}
	c, _ := m.statusCache.LoadOrStore(status, m.httpRequests.WithLabelValues(strconv.Itoa(status)))
	return c.(prometheus.Counter)
}

// observeBatch records the size of a JSON-RPC batch (rpc.Options.OnBatch).
func (m *metrics) observeBatch(n int) { m.batchSize.Observe(float64(n)) }

// observeHTTP is echo middleware counting requests by final status. Errors
// returned by handlers are written here (c.Error), so their status is known.
func (m *metrics) observeHTTP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m.httpInFlight.Inc()
		defer m.httpInFlight.Dec()
		if err := next(c); err != nil {
			c.Error(err)
		}
		m.statusSeries(c.Response().Status).Inc()
		return nil
	}
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// dbStatsCollector exports the connection pool statistics of the store.
type dbStatsCollector struct {
	stats func() sql.DBStats

	maxOpen, open, inUse, idle                  *prometheus.Desc
	waitCount, waitDuration                     *prometheus.Desc
	maxIdleClosed, maxIdleTimeClosed, lifeClose *prometheus.Desc
}

func newDBStatsCollector(dialect string, stats func() sql.DBStats) *dbStatsCollector {
	labels := prometheus.Labels{"dialect": dialect}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("billgate_db_"+name, help, nil, labels)
	}
	return &dbStatsCollector{
		stats:             stats,
		maxOpen:           d("max_open_connections", "Maximum number of open connections to the database."),
		open:              d("open_connections", "Established connections, in use and idle."),
		inUse:             d("in_use_connections", "Connections in use."),
		idle:              d("idle_connections", "Idle connections."),
		waitCount:         d("wait_count_total", "Connections waited for."),
		waitDuration:      d("wait_duration_seconds_total", "Time spent waiting for a connection."),
		maxIdleClosed:     d("max_idle_closed_total", "Connections closed because of max idle connections."),
		maxIdleTimeClosed: d("max_idle_time_closed_total", "Connections closed because of max idle time."),
		lifeClose:         d("max_lifetime_closed_total", "Connections closed because of max connection lifetime."),
	}
}

// Describe sends the descriptors of the pool metrics.
func (c *dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitDuration,
		c.maxIdleClosed, c.maxIdleTimeClosed, c.lifeClose} {
		ch <- d
	}
}

// Collect reads the pool statistics once and sends them.
func (c *dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(s.MaxOpenConnections))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	counter(c.waitCount, float64(s.WaitCount))
	counter(c.waitDuration, s.WaitDuration.Seconds())
	counter(c.maxIdleClosed, float64(s.MaxIdleClosed))
	counter(c.maxIdleTimeClosed, float64(s.MaxIdleTimeClosed))
	counter(c.lifeClose, float64(s.MaxLifetimeClosed))
}
