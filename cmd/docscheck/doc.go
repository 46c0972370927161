// Package docscheck checks the API documents from the outside, as their
// users meet them: `make docs-check` boots the real billgate binary, opens
// GET /docs in headless chromium (Swagger UI: the methods are listed,
// Authorize takes the API key, "Try it out" on clients.get returns the
// client; a screenshot goes to docs/docs-ui.png), then generates a
// TypeScript client from GET /openapi.json with openapi-typescript and
// openapi-fetch (npm, client/) and calls clients.get through it.
//
// The checks are in docscheck_test.go behind the build tag docscheck, since
// they need chromium (CHROMIUM, default /usr/bin/chromium) and npm with
// access to its registry: make test does not run them.
package docscheck
