package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// runBare is the bare-handler mode of the bench binary (-bare-listen): a plain
// net/http server answering GET / (and every path but /clients/) with the bytes
// of bodyFile (the REST system.version response billgate gave) as
// application/json. With rpcBodyFile it also answers POST / with that file's
// bytes (the JSON-RPC system.version response billgate gave), after reading
// the request body: the HTTP limit of each protocol. With dbURL (postgres://…
// or sqlite://path) it also answers GET /clients/:id with one primary-key
// lookup, encoded as billgate encodes a client: the HTTP + database limit,
// with no auth, no middleware, no ORM. The timeouts and keep-alive match
// billgate's defaults.
// contractHeaders returns what sets the headers every billgate answer
// carries besides Date and Content-Length: Content-Type, X-Api-Version (the
// version billgate served) and X-Request-Id (a fixed id as long as the one
// billgate generates). The answers are then the same on the wire, so the load
// generator parses as much for the bare handler as for billgate (two more
// headers cost it ~10% of its CPU per request here); making the id is left
// to billgate, as its own work.
func contractHeaders(apiVersion string) func(http.ResponseWriter) {
	ct, ver, id := []string{"application/json"}, []string{apiVersion}, []string{"BAREHANDLERXREQUESTXID0000"}
	return func(w http.ResponseWriter) {
		h := w.Header()
		h["Content-Type"], h["X-Api-Version"], h["X-Request-Id"] = ct, ver, id
	}
}

func runBare(addr, bodyFile, rpcBodyFile, dbURL string) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	lookup, err := bareLookup(dbURL)
	if err != nil {
		return err
	}
	var v struct {
		APIVersion string `json:"api_version"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.APIVersion == "" {
		return fmt.Errorf("the REST system.version answer names no api_version: %.200s", body)
	}
	headers := contractHeaders(v.APIVersion)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		headers(w)
		_, _ = w.Write(body)
	})
	if rpcBodyFile != "" {
		rpcBody, err := os.ReadFile(rpcBodyFile)
		if err != nil {
			return err
		}
		mux.HandleFunc("POST /{$}", bareRPC(rpcBody, headers))
	}
	if lookup != nil {
		mux.HandleFunc("GET /clients/{id}", func(w http.ResponseWriter, r *http.Request) {
			id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
			if err != nil {
				http.Error(w, `{"error":"bad id"}`, http.StatusBadRequest)
				return
			}
			var c clientScan
			if err := lookup(r.Context(), id, &c); err != nil {
				http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
				return
			}
			out, err := c.json()
			if err != nil {
				http.Error(w, `{"error":"encode"}`, http.StatusInternalServerError)
				return
			}
			headers(w)
			_, _ = w.Write(out)
		})
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return srv.ListenAndServe()
}

// bareRPC returns the bare handler's POST /: it reads the request body to the
// end, as any JSON-RPC server must before it can answer (and as billgate does),
// without decoding it (decoding is the server's work, not the HTTP limit's),
// then writes body, billgate's answer to that very request.
func bareRPC(body []byte, headers func(http.ResponseWriter)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, `{"error":"read"}`, http.StatusBadRequest)
			return
		}
		headers(w)
		_, _ = w.Write(body)
	}
}

// bareLookup returns the bare handler's primary-key lookup on dbURL, with the
// pool sizes billgate uses (20 on PostgreSQL, 8 readers on SQLite); nil for "".
func bareLookup(dbURL string) (func(ctx context.Context, id int64, c *clientScan) error, error) {
	switch {
	case dbURL == "":
		return nil, nil
	case strings.HasPrefix(dbURL, "sqlite://"):
		db, err := sql.Open("sqlite", sqliteDSN(strings.TrimPrefix(dbURL, "sqlite://"), true))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		stmt, err := db.Prepare("SELECT " + clientColumns + " FROM clients WHERE id = ?")
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, id int64, c *clientScan) error {
			return stmt.QueryRowContext(ctx, id).Scan(c.dest()...)
		}, nil
	default:
		cfg, err := pgxpool.ParseConfig(dbURL)
		if err != nil {
			return nil, err
		}
		cfg.MaxConns = 20
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			return nil, err
		}
		q := "SELECT " + clientColumns + " FROM clients WHERE id = $1"
		return func(ctx context.Context, id int64, c *clientScan) error {
			return pool.QueryRow(ctx, q, id).Scan(c.dest()...)
		}, nil
	}
}

// clientJSON is a client as billgate's clients.get encodes it (the fields
// of service.Client, in order); the harness does not import service, so that
// it builds whatever state the server's packages are in.
type clientJSON struct {
	ID          int64          `json:"id"`
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	ResellersID *int64         `json:"resellers_id"`
	Currency    string         `json:"currency"`
	Credit      int64          `json:"credit"`
	Balance     int64          `json:"balance"`
	Email       string         `json:"email"`
	Company     string         `json:"company"`
	Phone       string         `json:"phone"`
	TaxNumber   string         `json:"tax_number"`
	Metadata    map[string]any `json:"metadata"`
	LiveMode    bool           `json:"live_mode"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// json encodes the scanned row as billgate does (metadata decoded with
// json.Number, times in UTC).
func (c *clientScan) json() ([]byte, error) {
	var meta map[string]any
	if len(c.metadata) > 0 {
		dec := json.NewDecoder(bytes.NewReader(c.metadata))
		dec.UseNumber()
		if err := dec.Decode(&meta); err != nil {
			return nil, err
		}
	}
	return json.Marshal(clientJSON{ID: c.id, Name: c.name, Status: c.status, ResellersID: c.resellersID, Currency: c.currency,
		Credit: c.credit, Balance: c.balance, Email: c.email, Company: c.company, Phone: c.phone, TaxNumber: c.taxNumber,
		Metadata: meta, LiveMode: c.liveMode, CreatedAt: c.createdAt.UTC(), UpdatedAt: c.updatedAt.UTC()})
}
