// psm-vcsim: govmomi's vCenter simulator (the VPX model) for psm's vSphere driver tests.
//
// It listens on 127.0.0.1 only, with a certificate made fresh at start-up (self-signed, its own
// CA) written to -dir/cert.pem so the tests can pin it. The login the simulator accepts is read
// from stdin (one JSON line: {"user":"...","password":"..."}), never from argv or the
// environment. It prints one JSON line (url, certificate path, SHA-256 thumbprint) once it
// serves, and exits when stdin is closed, so it never outlives the test that started it.
//
// What it adds to the simulator (each marked "psm:" below, and listed in docs/vsphere.md):
//   - a fixture: a powered-off VM "psm-template" with a snapshot "psm-base" (the linked-clone
//     source), cloned from the model's DC0_H0_VM0;
//   - a VMware Tools model: a powered-on VM reports tools running and a guest IP shortly after
//     power-on and loses both at power-off (0.24.2 leaves every VM at "guestToolsNotRunning");
//   - with a guest login on stdin, guest operations (guestops.go) in container-backed workers,
//     whose containers this same binary provides when started as "docker" (docker.go).
//
// Build (GOPATH mode, Debian's golang-github-vmware-govmomi-dev):
//
//	GO111MODULE=off GOPATH=<cache>:/usr/share/gocode go build -o psm-vcsim ./test/helpers/vcsim
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
)

type login struct {
	User     string `json:"user"`
	Password string `json:"password"`
	// Privileges, when given, are what the user holds (psm's role); else the user is an admin.
	Privileges []string `json:"privileges"`
	// Guest, when given, is the guest login VMware Tools accept (guest operations on).
	Guest *guestLogin `json:"guest"`
}

type ready struct {
	URL         string   `json:"url"`
	Certificate string   `json:"certificate"`
	SHA256      string   `json:"sha256"`
	Datastores  []string `json:"datastores"`
}

func main() {
	switch filepath.Base(os.Args[0]) {
	case "docker":
		runDocker(os.Args[1:])
		return
	case "pgrep":
		runPgrep(os.Args[1:])
		return
	}
	dir := flag.String("dir", "", "directory for cert.pem (and key.pem with -make-cert)")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (127.0.0.0/8 only)")
	makeCert := flag.Bool("make-cert", false, "only write a fresh key.pem and cert.pem to -dir, then exit")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("psm-vcsim: ")
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	if *makeCert {
		if _, err := writeCertificate(*dir, true); err != nil {
			log.Fatal(err)
		}
		return
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-listen must be a loopback address with a port, not %q", *listen)
	}

	stdin := bufio.NewReader(os.Stdin)
	var creds login
	line, err := stdin.ReadBytes('\n')
	if err != nil || json.Unmarshal(line, &creds) != nil || creds.User == "" || creds.Password == "" {
		log.Fatal("stdin must start with one JSON line {\"user\":...,\"password\":...}")
	}
	for i := range line {
		line[i] = 0
	}

	cert, err := writeCertificate(*dir, false)
	if err != nil {
		log.Fatal(err)
	}

	model := simulator.VPX()
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()

	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(creds.User, creds.Password)}
	privileges := creds.Privileges
	guest := creds.Guest
	creds = login{}

	if err := addFixture(model.Service); err != nil {
		log.Fatal(err)
	}
	installTools(simulator.Map)
	if len(privileges) > 0 {
		installRole(simulator.Map, privileges)
	}
	if guest != nil {
		installGuestOperations(simulator.Map, *guest)
	}

	server := model.Service.NewServer()
	defer server.Close()

	u := *server.URL
	u.User = nil
	sum := sha256.Sum256(cert.Certificate[0])
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	out, _ := json.Marshal(ready{
		URL:         u.String(),
		Certificate: filepath.Join(*dir, "cert.pem"),
		SHA256:      strings.Join(hexes, ":"),
		Datastores:  datastorePaths(simulator.Map),
	})
	fmt.Println(string(out))

	// Serve until whoever started us closes our stdin.
	_, _ = io.Copy(io.Discard, stdin)
}

// writeCertificate makes an ECDSA P-256 key and a self-signed CA certificate for 127.0.0.1 and
// localhost, writes cert.pem (and key.pem when asked) into dir, and returns the pair.
func writeCertificate(dir string, writeKey bool) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	template := x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "psm-vcsim", Organization: []string{"psm tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFileAtomic(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	if writeKey {
		keyDer, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := writeFileAtomic(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDer}), 0o600); err != nil {
			return tls.Certificate{}, err
		}
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

var errFixture = errors.New("fixture")

// psm: the linked-clone source a vSphere administrator would prepare: a powered-off VM with a
// snapshot, in the datacenter's VM folder.
func addFixture(service *simulator.Service) error {
	ctx := context.Background()
	c, err := vim25.NewClient(ctx, service)
	if err != nil {
		return err
	}
	return cloneTemplate(ctx, c)
}
