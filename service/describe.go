package service

import "strings"

// About returns the server's name and versions (what system.version answers),
// for the API documents.
func (s *Service) About() Version {
	return Version{Name: s.cfg.Name, Version: s.cfg.Version, APIVersion: s.cfg.APIVersion}
}

// ErrorCodes returns the codes a call of m can fail with in the service, in
// the order of AllCodes, derived from its declaration:
//
//   - every method: invalid_params (params, __tz), internal, unavailable, timeout;
//   - methods that need credentials: unauthenticated, forbidden (allowed_ips)
//     and not_found (an object out of reach, or an X-Reseller outside the
//     caller's subtree);
//   - authenticated writes (any verb but GET): conflict (duplicates) and
//     unprocessable (business rules);
//   - idempotent methods: conflict (a key reused with other params);
//   - whatever the declaration's Raises adds.
//
// Transport errors (parse_error, invalid_request, method_not_found,
// too_large) are the transports' to add.
func (m *Method) ErrorCodes() []Code {
	set := map[Code]bool{CodeInvalidParams: true, CodeInternal: true, CodeUnavailable: true, CodeTimeout: true}
	if m.Auth != Public {
		set[CodeUnauthenticated], set[CodeForbidden], set[CodeNotFound] = true, true, true
	}
	if m.Auth == Authenticated && !strings.EqualFold(m.HTTP.Verb, "GET") {
		set[CodeConflict], set[CodeUnprocessable] = true, true
	}
	if m.Idempotent {
		set[CodeConflict] = true
	}
	for _, c := range m.Raises {
		set[c] = true
	}
	out := make([]Code, 0, len(set))
	for _, c := range AllCodes {
		if set[c] {
			out = append(out, c)
		}
	}
	return out
}

// Descriptions of the request meta parameters (both transports) and of the
// credentials (CredentialsFromHTTP), for the API documents.
const (
	DocTZ = "IANA time zone (such as America/New_York) of the datetimes in the result, and of zone-less " +
		"datetimes in the params; default: the user's zone, else the server's."
	DocIdempotencyKey = "Makes the call idempotent for 24 h: a repeat with the same key and params replays the " +
		"first result; the same key with other params is a conflict. At most 255 characters."
	DocReseller = "Narrows the call to this reseller's subtree, inside the caller's own (outside it: not found)."
	DocAPIKey   = "An API key (live_… or test_…: the prefix sets the mode). The preferred credentials."
	DocBasic    = "HTTP Basic with the API key as the user name and an empty password."
	DocBearer   = "Deprecated: a JWT from iam.auth.jwt.authenticate, sent as Authorization: Bearer. Use an API key."
)

// Names of the credential schemes the API documents declare.
const (
	SchemeAPIKey = "ApiKey"
	SchemeBasic  = "Basic"
	SchemeBearer = "Bearer"
)

// SecurityScheme documents one way to send credentials (CredentialsFromHTTP)
// in the shape of an OpenAPI security scheme object, which both API documents
// use (OpenAPI's components, OpenRPC's x-security-schemes).
type SecurityScheme struct {
	Type         string `json:"type"`
	Description  string `json:"description,omitempty"`
	Name         string `json:"name,omitempty"`
	In           string `json:"in,omitempty"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	// Deprecated: OpenAPI has no such field for schemes; tools read the extension.
	Deprecated bool `json:"x-deprecated,omitempty"`
}

// SecuritySchemes returns the credential schemes by name.
func SecuritySchemes() map[string]*SecurityScheme {
	return map[string]*SecurityScheme{
		SchemeAPIKey: {Type: "apiKey", In: "header", Name: "X-Api-Key", Description: DocAPIKey},
		SchemeBasic:  {Type: "http", Scheme: "basic", Description: DocBasic},
		SchemeBearer: {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Deprecated: true, Description: DocBearer},
	}
}

// Security returns the security requirement of a method needing a: none for
// Public, a JWT for JWTOnly, any one scheme otherwise; and the sentence the
// documents add about it ("" when it goes without saying).
func (a Auth) Security() ([]map[string][]string, string) {
	switch a {
	case Public:
		return []map[string][]string{}, "No credentials needed."
	case JWTOnly:
		return []map[string][]string{{SchemeBearer: {}}}, "Needs a JWT (Authorization: Bearer; deprecated)."
	}
	return []map[string][]string{{SchemeAPIKey: {}}, {SchemeBasic: {}}, {SchemeBearer: {}}}, ""
}
