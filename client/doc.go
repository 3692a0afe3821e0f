// Package client is the Go client library of tickwire's subscriber
// protocol (package transport): it keeps a local mirror of the daemon's
// books (Book) from a snapshot and the updates after it.
package client
