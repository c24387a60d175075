package verify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestReader(t *testing.T) {
	body := []byte("hello, registry")
	good := ocispec.Descriptor{Digest: digest.FromBytes(body), Size: int64(len(body))}
	tests := []struct {
		name string
		body string
		desc ocispec.Descriptor
		want error
	}{
		{"exact", string(body), good, nil},
		{"short", string(body[:5]), good, ErrSize},
		{"long", string(body) + "!", good, ErrSize},
		{"other bytes, same size", strings.ToUpper(string(body)), good, ErrDigest},
		{"malformed digest", string(body), ocispec.Descriptor{Digest: "sha256:zz", Size: 15}, ErrDigest},
		{"unknown algorithm", string(body), ocispec.Descriptor{Digest: "md5:0123", Size: 15}, ErrDigest},
		{"negative size", string(body), ocispec.Descriptor{Digest: good.Digest, Size: -1}, ErrSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var counted int64
			got, err := io.ReadAll(NewReader(strings.NewReader(tt.body), tt.desc, func(n int64) { counted += n }))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (!bytes.Equal(got, body) || counted != good.Size) {
				t.Errorf("read %q (counted %d), want %q", got, counted, body)
			}
		})
	}
}

// A source that announces far more than the descriptor allows is cut off
// after one byte too many.
func TestReaderStopsEarly(t *testing.T) {
	d := ocispec.Descriptor{Digest: digest.FromString("x"), Size: 1}
	src := &countingSource{}
	_, err := io.Copy(io.Discard, NewReader(src, d, nil))
	if !errors.Is(err, ErrSize) || src.n > 1<<16 {
		t.Errorf("err = %v after reading %d bytes; want ErrSize after a few bytes", err, src.n)
	}
}

type countingSource struct{ n int64 }

func (c *countingSource) Read(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestSizeReader: sizes are checked as by NewReader; the digest is the
// caller's to check, so other bytes of the right size pass.
func TestSizeReader(t *testing.T) {
	body := []byte("hello, cache")
	d := ocispec.Descriptor{Digest: digest.FromBytes(body), Size: int64(len(body))}
	for _, tt := range []struct {
		name string
		body string
		want error
	}{
		{"exact", string(body), nil},
		{"other bytes, same size (not hashed)", strings.ToUpper(string(body)), nil},
		{"short", string(body[:3]), ErrSize},
		{"long", string(body) + "!", ErrSize},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(NewSizeReader(strings.NewReader(tt.body), d))
			if !errors.Is(err, tt.want) || (err != nil) != (tt.want != nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && string(got) != tt.body {
				t.Errorf("read %q, want %q", got, tt.body)
			}
		})
	}
}

func TestWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := WithContext(ctx, strings.NewReader("abcdef"))
	p := make([]byte, 3)
	if n, err := r.Read(p); n != 3 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	cancel()
	if n, err := r.Read(p); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel = %d, %v; want 0, context.Canceled", n, err)
	}
}
