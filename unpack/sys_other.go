//go:build !unix

package unpack

const oNoFollow = 0
