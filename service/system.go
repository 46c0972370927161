package service

import "context"

// Version is the result of system.version.
type Version struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	APIVersion string `json:"api_version"`
}

func (s *Service) registerSystem() {
	Register(s.registry, Decl[NoParams, *Version]{
		Name: "system.version", Summary: "The server's name and versions.",
		HTTP: Route{Verb: "GET", Path: "/"}, Auth: Public,
		Do: func(context.Context, *NoParams) (*Version, error) {
			return &Version{Name: s.cfg.Name, Version: s.cfg.Version, APIVersion: s.cfg.APIVersion}, nil
		},
	})
}
