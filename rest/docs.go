package rest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/billgate/billgate/service"
)

// The browsable docs: Swagger UI (swagger-ui-dist, see docs/README.md) with
// our index.html and init.js, embedded so that no request leaves for the
// internet.
//
//go:embed docs/index.html docs/init.js docs/swagger-ui-bundle.js docs/swagger-ui-standalone-preset.js docs/swagger-ui.css
var docsFS embed.FS

// Paths of the API documents and the docs page.
const (
	OpenAPIPath = "/openapi.json"
	DocsPath    = "/docs"
)

// docsCSP allows the page only its own scripts, styles and API calls.
const docsCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
	"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// asset is a file served as it is, with its ETag computed once and its
// gzipped form on the first request that accepts it.
type asset struct {
	body        []byte
	contentType string
	etag        string
	cache       string
	csp         bool

	gzOnce sync.Once
	gz     []byte // nil when gzip does not pay
}

func newAsset(body []byte, contentType, cache string) *asset {
	sum := sha256.Sum256(body)
	return &asset{body: body, contentType: contentType, cache: cache,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

// gzipped returns the gzipped body, or nil.
func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		if len(a.body) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(a.body); err == nil && zw.Close() == nil && buf.Len() < len(a.body) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

// serve writes the asset: 304 when the client has it, gzipped when accepted.
func (a *asset) serve(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", a.cache)
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if a.csp {
		h.Set(echo.HeaderContentSecurityPolicy, docsCSP)
		h.Set(echo.HeaderXFrameOptions, "DENY")
	}
	if inm := c.Request().Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	body := a.body
	if acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		if gz := a.gzipped(); gz != nil {
			h.Set(echo.HeaderContentEncoding, "gzip")
			body = gz
		}
	}
	return c.Blob(http.StatusOK, a.contentType, body)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (q > 0).
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// mountDocs serves the OpenAPI document of svc (generated here, once) at
// GET /openapi.json and the Swagger UI at GET /docs. A document that cannot
// be generated is logged, and its route answers 500.
func mountDocs(e *echo.Echo, svc *service.Service, log *slog.Logger) {
	doc, err := OpenAPI(svc)
	if err != nil {
		log.Error("rest: cannot generate the OpenAPI document", "err", err)
		e.GET(OpenAPIPath, func(echo.Context) error { return service.Internal(err) })
	} else {
		a := newAsset(doc, echo.MIMEApplicationJSON, "no-cache")
		e.GET(OpenAPIPath, a.serve)
	}

	assets := docsAssets()
	index := assets["index.html"]
	e.GET(DocsPath, index.serve)
	e.GET(DocsPath+"/", index.serve)
	e.GET(DocsPath+"/:file", func(c echo.Context) error {
		a, ok := assets[c.Param("file")]
		if !ok {
			return echo.ErrNotFound
		}
		return a.serve(c)
	})
}

// docsAssets are the embedded files, read (and later gzipped) once per process.
var docsAssets = sync.OnceValue(func() map[string]*asset {
	assets := map[string]*asset{}
	entries, _ := docsFS.ReadDir("docs")
	for _, en := range entries {
		body, err := docsFS.ReadFile("docs/" + en.Name())
		if err != nil {
			panic("rest: embedded docs: " + err.Error()) // cannot happen: the files are in the binary
		}
		assets[en.Name()] = newAsset(body, contentTypeOf(en.Name()), "public, max-age=3600")
	}
	index := assets["index.html"]
	index.cache, index.csp = "no-cache", true
	return assets
})

func contentTypeOf(name string) string {
	switch path.Ext(name) {
	case ".html":
		return echo.MIMETextHTMLCharsetUTF8
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return echo.MIMEOctetStream
}
