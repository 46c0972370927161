package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/billgate/billgate/pkg/secret"
	"github.com/billgate/billgate/service"
)

// bootstrap creates the user admin with a live API key on the first start (no
// users yet) and prints the credentials once to stderr.
func bootstrap(ctx context.Context, a *app, stderr io.Writer) error {
	n, err := a.store.CountUsersAll(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if n > 0 {
		return nil
	}
	pw := a.cfg.AdminPassword
	if pw == "" {
		pw = secret.Random(20)
	}
	res, err := a.call(ctx, "iam.users.create", args(map[string]any{"login": "admin", "password": pw, "role": service.RoleAdmin}))
	if isConflict(err) {
		return nil // another process bootstrapped first
	}
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	u := res.(*service.User)
	ctx = service.WithPrincipal(ctx, &service.Principal{Login: "system", Live: true})
	var k *service.APIKey
	if a.cfg.AdminAPIKey != "" {
		k, err = a.svc.ImportAPIKey(ctx, u.ID, a.cfg.AdminAPIKey)
	} else {
		k, err = a.svc.NewAPIKey(ctx, u.ID, service.ModeLive, nil)
	}
	if err != nil {
		return fmt.Errorf("bootstrap admin key: %w", err)
	}
	// Only generated secrets are shown: configured ones are known to the
	// operator already and must not end up in the logs.
	shownPW, shownKey := pw, k.Key
	if a.cfg.AdminPassword != "" {
		shownPW = "(as configured: admin_password)"
	}
	if a.cfg.AdminAPIKey != "" {
		shownKey = "(as configured: admin_api_key)"
	}
	if a.cfg.AdminPassword != "" && a.cfg.AdminAPIKey != "" {
		fmt.Fprintf(stderr, "First start: created user %q with the configured password and API key.\n", u.Login)
		return nil
	}
	fmt.Fprintf(stderr, "\nFirst start: created user %q.\n  password: %s\n  API key:  %s\nThey are shown only now; keep them safe.\n\n", u.Login, shownPW, shownKey)
	return nil
}

// usersCmd: billgate users create -login L -password P [-role R] [-reseller N] [-timezone Z]
func usersCmd(ctx context.Context, a *app, argv []string, stdout, stderr io.Writer) error {
	sub, argv := splitFlags(argv)
	if sub != "create" {
		return fmt.Errorf("usage: billgate users create -login L -password P [-role admin|user] [-reseller N] [-timezone ZONE]")
	}
	fs := flag.NewFlagSet("users create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	login := fs.String("login", "", "login (required)")
	pw := fs.String("password", "", "password, 8 to 72 bytes (required)")
	role := fs.String("role", service.RoleUser, "admin or user")
	reseller := fs.Int64("reseller", 0, "reseller id the user is limited to (0: none)")
	zone := fs.String("timezone", "", "IANA time zone")
	if err := fs.Parse(argv); err != nil {
		return err
	}
	p := map[string]any{"login": *login, "password": *pw, "role": *role, "timezone": *zone}
	if *reseller > 0 {
		p["resellers_id"] = *reseller
	}
	res, err := a.call(ctx, "iam.users.create", args(p))
	if err != nil {
		return err
	}
	return printJSON(stdout, res)
}

// apikeysCmd: billgate apikeys create -user LOGIN|ID [-mode live|test]
func apikeysCmd(ctx context.Context, a *app, argv []string, stdout, stderr io.Writer) error {
	sub, argv := splitFlags(argv)
	if sub != "create" {
		return fmt.Errorf("usage: billgate apikeys create -user LOGIN|ID [-mode live|test]")
	}
	fs := flag.NewFlagSet("apikeys create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "login or id of the key's user (required)")
	mode := fs.String("mode", service.ModeLive, "live or test")
	if err := fs.Parse(argv); err != nil {
		return err
	}
	id, err := strconv.ParseInt(*user, 10, 64)
	if err != nil {
		u, err := a.store.UserByLogin(ctx, *user)
		if err != nil {
			return fmt.Errorf("user %q: %w", *user, err)
		}
		id = u.ID
	}
	res, err := a.call(ctx, "iam.api_keys.create", args(map[string]any{"users_id": id, "mode": *mode}))
	if err != nil {
		return err
	}
	return printJSON(stdout, res)
}

func args(m map[string]any) service.Args {
	out := service.Args{}
	for k, v := range m {
		b, _ := json.Marshal(v)
		out[k] = b
	}
	return out
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
