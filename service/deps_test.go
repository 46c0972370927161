package service_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsPointInward keeps the house plan: the service imports no
// transport or storage library, the transports never import the store or each
// other, and the store imports no transport.
func TestImportsPointInward(t *testing.T) {
	forbidden := map[string][]string{
		"./service": {"github.com/labstack/echo", "gorm.io/", "github.com/sourcegraph/jsonrpc2", "github.com/invopop/jsonschema", "/store", "/rest", "/rpc"},
		"./rest":    {"gorm.io/", "github.com/billgate/billgate/store", "github.com/billgate/billgate/rpc"},
		"./rpc":     {"gorm.io/", "github.com/labstack/echo", "github.com/billgate/billgate/store", "github.com/billgate/billgate/rest"},
		"./store":   {"github.com/labstack/echo", "github.com/sourcegraph/jsonrpc2", "github.com/billgate/billgate/rest", "github.com/billgate/billgate/rpc"},
	}
	// pkg/ holds leaf libraries: none knows billgate's own packages.
	out, err := exec.Command("go", "list", "-deps", "github.com/billgate/billgate/pkg/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list pkg/...: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/billgate/billgate/") && !strings.HasPrefix(dep, "github.com/billgate/billgate/pkg/") {
			t.Errorf("pkg/ depends on %s", dep)
		}
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "github.com/billgate/billgate/"+strings.TrimPrefix(pkg, "./")).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if strings.Contains(dep, b) && !strings.HasSuffix(dep, "billgate/"+strings.TrimPrefix(pkg, "./")) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
