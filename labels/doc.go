// Package labels is the pgoci label schema and its reference implementation.
package labels
