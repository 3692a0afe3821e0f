// Package testcert makes certificates for tests: a self-signed authority
// and a server certificate it signed for 127.0.0.1, ::1 and localhost, made
// anew on every call (nothing is committed). Not for production use.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Set is an authority and the server certificate it signed.
type Set struct {
	CAPEM   []byte // the authority's certificate
	CertPEM []byte // the server's
	KeyPEM  []byte // the server's private key (PKCS #8)
}

// New makes a Set valid for an hour.
func New() (*Set, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tickwire test CA"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "tickwire test server"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"}}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Set{CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})}, nil
}

// Server returns the server's TLS configuration.
func (s *Set) Server() (*tls.Config, error) {
	c, err := tls.X509KeyPair(s.CertPEM, s.KeyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS12}, nil
}

// Client returns a client's TLS configuration trusting the authority alone.
func (s *Set) Client() *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// Write writes the authority's certificate, the server's certificate and
// its key into dir as ca.pem, cert.pem and key.pem, and returns their paths.
func (s *Set) Write(dir string) (ca, cert, key string, err error) {
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []struct {
		path string
		b    []byte
		mode os.FileMode
	}{{ca, s.CAPEM, 0o644}, {cert, s.CertPEM, 0o644}, {key, s.KeyPEM, 0o600}} {
		if err = os.WriteFile(f.path, f.b, f.mode); err != nil {
			return
		}
	}
	return
}

// ForTest returns a new Set and its server configuration, failing t if
// they cannot be made.
func ForTest(t testing.TB) (*Set, *tls.Config) {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Server()
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}
