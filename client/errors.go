package client

import "errors"

// Errors returned by Dial and Client.Run, wrapped with what the server said.
// They are sentinels: compare with errors.Is.
var (
	// ErrRefused is returned (wrapped, with the server's reason) when the
	// server refuses the Hello: a wrong token or an unsupported version. It
	// is final: the client does not retry.
	ErrRefused = errors.New("client: refused by the server")
	// ErrServer is returned (wrapped, with the code and text) when the
	// server sent a ServerError and closed the connection.
	ErrServer = errors.New("client: server error")
)
