package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/billgate/billgate/pkg/pgtest"
)

// pgCluster is a throwaway PostgreSQL cluster (initdb + pg_ctl) on a free
// port of 127.0.0.1, in a temporary directory, that a test can stop and start
// at will. Run as root, the tools run as the postgres OS user (initdb refuses
// root). The cluster uses password authentication, so that tests can check
// the password never leaks.
type pgCluster struct {
	t        testing.TB
	bin      string   // directory of initdb and pg_ctl
	asUser   []string // command prefix dropping root (runuser), or nil
	viaSu    bool     // drop root with su -c instead
	dir      string   // the cluster's directory (data/, the log, the socket)
	port     int
	password string
}

// needCluster skips t (or fails it with BILLGATE_REQUIRE_POSTGRES=1) when a
// throwaway cluster cannot be made on this machine.
func needCluster(t testing.TB, why string) {
	t.Helper()
	msg := "throwaway PostgreSQL cluster: " + why
	if pgtest.Required() {
		t.Fatal(msg + "; failing because " + pgtest.EnvRequire + "=1")
	}
	t.Skip(msg + "; skipping (set " + pgtest.EnvRequire + "=1 to fail instead)")
}

// pgBinDir finds the directory holding initdb and pg_ctl: PATH first, then
// the newest /usr/lib/postgresql/*/bin.
func pgBinDir() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if dir := filepath.Dir(p); fileExists(filepath.Join(dir, "initdb")) {
			return dir
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// newPGCluster creates and starts a cluster; it is stopped and removed when t ends.
func newPGCluster(t testing.TB) *pgCluster {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		needCluster(t, "initdb and pg_ctl not found (PATH, /usr/lib/postgresql/*/bin)")
	}
	c := &pgCluster{t: t, bin: bin}
	dir, err := os.MkdirTemp("", "billgate-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			needCluster(t, "running as root and there is no postgres OS user to run initdb as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		switch {
		case lookPath("runuser") != "":
			c.asUser = []string{lookPath("runuser"), "-u", "postgres", "--"}
		case lookPath("su") != "":
			c.viaSu = true
		default:
			needCluster(t, "running as root and neither runuser nor su is available to drop to postgres")
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 12)
	rand.Read(b)
	c.password = "pgpw-" + hex.EncodeToString(b)
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(c.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, _ := user.Lookup("postgres")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		os.Chown(pwfile, uid, gid)
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pwfile,
		"-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		needCluster(t, fmt.Sprintf("initdb failed: %v\n%s", err, out))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.start()
	t.Cleanup(func() { c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop") })
	return c
}

func lookPath(name string) string {
	p, _ := exec.LookPath(name)
	return p
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// URL is the cluster's postgres database, with the password.
func (c *pgCluster) URL() string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", c.password, c.port)
}

// run runs one of the cluster's tools (as postgres when root).
func (c *pgCluster) run(tool string, args ...string) (string, error) {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	switch {
	case c.viaSu:
		quoted := []string{shellQuote(path)}
		for _, a := range args {
			quoted = append(quoted, shellQuote(a))
		}
		cmd = exec.Command("su", "postgres", "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
	case c.asUser != nil:
		cmd = exec.Command(c.asUser[0], append(append(c.asUser[1:len(c.asUser):len(c.asUser)], path), args...)...)
	default:
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c max_connections=60 -c shared_buffers=16MB",
		c.port, c.dir)
	if out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "postgres.log"), "-o", opts, "-w", "-t", "120", "start"); err != nil {
		c.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, c.log())
	}
}

// stop stops the server: mode immediate kills it without a shutdown
// checkpoint, as a crash would (clients see their connections cut).
func (c *pgCluster) stop(mode string) {
	c.t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data(), "-m", mode, "-w", "-t", "120", "stop"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// log returns the server's log.
func (c *pgCluster) log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
	return string(b)
}
