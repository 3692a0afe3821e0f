package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"

	"github.com/tickwire/tickwire/client"
)

// tlsFlags adds --tls and --ca to fs; the returned function gives the
// client's TLS option once fs is parsed (none without either flag).
func tlsFlags(fs *flag.FlagSet) func() ([]client.Option, error) {
	on := fs.Bool("tls", false, "connect with TLS, trusting the system's authorities (the daemon's transport.tls)")
	ca := fs.String("ca", "", "connect with TLS, trusting the authorities in `FILE` (PEM) alone")
	return func() ([]client.Option, error) {
		if !*on && *ca == "" {
			return nil, nil
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if *ca != "" {
			b, err := os.ReadFile(*ca)
			if err != nil {
				return nil, fmt.Errorf("--ca: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(b) {
				return nil, fmt.Errorf("--ca: no PEM certificate in %s", *ca)
			}
		}
		return []client.Option{client.WithTLS(cfg)}, nil
	}
}
