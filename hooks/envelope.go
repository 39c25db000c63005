package hooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"slices"
	"sync"
	"unsafe"

	"github.com/restycache/restycache/cache"
)

// EncryptionKeySize is the size in bytes of an encryption key
// (StoreOptions.EncryptionKeys): AES-256 takes 32 bytes.
const EncryptionKeySize = 32

// MinSigningKeySize is the least size in bytes of a signing key
// (StoreOptions.SigningKeys): HMAC-SHA256 keys shorter than its output are
// weaker than the MAC.
const MinSigningKeySize = 32

// KeyIDSize is the size of the key id that a signed or sealed envelope
// carries: the first KeyIDSize bytes of the SHA-256 of the key. It names
// the key without revealing it.
const KeyIDSize = 4

// ErrRejected is wrapped by the error reported for a stored record that
// the Store refused to read: its envelope is missing, was made for
// another storage key, does not match its signature, was signed or sealed
// with a key the Store does not have, or cannot be opened. Such a record is
// a miss; it is deleted, counted and reported, never served.
var ErrRejected = errors.New("restycache: stored record rejected")

// Every record the Store writes is an envelope around the codec's bytes
// (cache.AppendEntry), bound to its full storage key (namespace included):
//
//	plain:  'r' 'k' 'p' crc32c(key)[4]  entry
//	signed: 'r' 'k' 's' keyID[4]        entry  mac[32]
//	        mac = HMAC-SHA256(key, uvarint(len(storage key)) storage key 'r' 'k' 's' keyID entry)
//	sealed: 'r' 'k' 'e' keyID[4]        nonce[12] AES-256-GCM(entry)[len(entry)+16]
//	        associated data: the storage key
//
// A Store reads only envelopes of its own kind: a signing Store rejects
// plain and sealed records, an encrypting one plain and signed records.
// The plain envelope's checksum of the key catches a record moved or
// copied under another key by accident; the codec's own CRC-32C covers the
// entry. Signatures and seals also stop a writer without the key.
const (
	envMagic0  = 'r'
	envMagic1  = 'k'
	envPlain   = 'p'
	envSigned  = 's'
	envSealed  = 'e'
	envHeadLen = 3 + KeyIDSize
	envMACLen  = sha256.Size
)

// envelope wraps and unwraps the records of one Store. Its zero value is
// the plain envelope. It is safe for concurrent use.
type envelope struct {
	kind  byte
	sign  []signKey // the first signs; any verifies
	seal  []sealKey // the first seals; any opens
	crc32 *crc32.Table
	// scratch holds *[]byte buffers for the bytes of a storage key, so
	// that hashing it or passing it as associated data allocates nothing.
	scratch sync.Pool
}

type signKey struct {
	id   [KeyIDSize]byte
	macs sync.Pool // of *macState: HMAC-SHA256 under this key
}

// macState is one HMAC under a signing key with the buffers a signature
// needs, reused through signKey.macs so that verifying allocates nothing.
type macState struct {
	h   hash.Hash
	key []byte // uvarint(len(storage key)) storage key
	sum [envMACLen]byte
}

type sealKey struct {
	id   [KeyIDSize]byte
	aead cipher.AEAD // AES-256-GCM with a random nonce per seal
}

// keyID returns the id of key: the first KeyIDSize bytes of its SHA-256.
func keyID(key []byte) (id [KeyIDSize]byte) {
	sum := sha256.Sum256(key)
	copy(id[:], sum[:])
	return id
}

// CheckKeys reports what is wrong with a set of signing and encryption keys
// (see StoreOptions): a signing key shorter than MinSigningKeySize, an
// encryption key that is not EncryptionKeySize bytes, two keys with one key
// id, or both kinds at once. NewStore panics with its error.
func CheckKeys(signing, encryption [][]byte) error {
	if len(signing) > 0 && len(encryption) > 0 {
		return errors.New("signing and encryption keys both given: an encrypted entry is authenticated already, give one kind")
	}
	seen := map[[KeyIDSize]byte]bool{}
	for i, k := range signing {
		if len(k) < MinSigningKeySize {
			return fmt.Errorf("signing key %d is %d bytes, want at least %d", i, len(k), MinSigningKeySize)
		}
		if id := keyID(k); seen[id] {
			return fmt.Errorf("signing key %d has the key id %x of an earlier key (given twice?)", i, id)
		} else {
			seen[id] = true
		}
	}
	for i, k := range encryption {
		if len(k) != EncryptionKeySize {
			return fmt.Errorf("encryption key %d is %d bytes, want exactly %d (AES-256)", i, len(k), EncryptionKeySize)
		}
		if id := keyID(k); seen[id] {
			return fmt.Errorf("encryption key %d has the key id %x of an earlier key (given twice?)", i, id)
		} else {
			seen[id] = true
		}
	}
	return nil
}

// newEnvelope returns the envelope for the keys, which CheckKeys accepted.
func newEnvelope(signing, encryption [][]byte) *envelope {
	env := &envelope{kind: envPlain, crc32: crc32.MakeTable(crc32.Castagnoli)}
	env.scratch.New = func() any { b := make([]byte, 0, 256); return &b }
	switch {
	case len(encryption) > 0:
		env.kind = envSealed
		for _, k := range encryption {
			block, err := aes.NewCipher(k)
			if err != nil {
				panic(fmt.Sprintf("restycache/hooks: encryption key: %v", err)) // CheckKeys ruled it out
			}
			aead, err := cipher.NewGCMWithRandomNonce(block)
			if err != nil {
				panic(fmt.Sprintf("restycache/hooks: encryption key: %v", err))
			}
			env.seal = append(env.seal, sealKey{id: keyID(k), aead: aead})
		}
	case len(signing) > 0:
		env.kind = envSigned
		env.sign = make([]signKey, len(signing))
		for i, k := range signing {
			k := append([]byte(nil), k...)
			env.sign[i].id = keyID(k)
			env.sign[i].macs.New = func() any { return &macState{h: hmac.New(sha256.New, k)} }
		}
	}
	return env
}

// keyBytes returns the bytes of key in a scratch buffer; put returns it.
func (env *envelope) keyBytes(key string) *[]byte {
	b := env.scratch.Get().(*[]byte)
	*b = append((*b)[:0], key...)
	return b
}

func (env *envelope) put(b *[]byte) {
	if cap(*b) <= 4<<10 {
		env.scratch.Put(b)
	}
}

// envTrailerMax is the most bytes an envelope adds after the entry's body:
// the codec's checksum and a signature.
const envTrailerMax = 4 + envMACLen

// wrap returns the record e, encoded, in the Store's envelope, bound to
// the storage key.
func (env *envelope) wrap(key string, e *cache.Entry) []byte {
	if env.kind == envSealed {
		k := &env.seal[0]
		entry := cache.AppendEntry(nil, e)
		out := make([]byte, 0, envHeadLen+k.aead.NonceSize()+len(entry)+k.aead.Overhead())
		out = append(out, envMagic0, envMagic1, envSealed)
		out = append(out, k.id[:]...)
		aad := env.keyBytes(key)
		out = k.aead.Seal(out, nil, entry, *aad)
		env.put(aad)
		return out
	}
	out, start := env.alignedHead(key, e, len(e.Body))
	if e.Alias == "" {
		out = append(out, e.Body...)
	}
	return env.finish(key, out, start)
}

// bodyAlign is the alignment in memory of the body in a record the Store
// encodes, and in a large one it decodes (see alignedHead and
// alignedRecord). Copying a body out of an unaligned source is slow: a
// memory hit at 64 KiB, which hands out the stored record's body, cost
// about 1.25× its floor with the body at an arbitrary offset and 1.02×
// with it on a 64-byte boundary (bench/profiles/ANALYSIS.md, perf5).
const bodyAlign = 64

// alignedHead returns a new buffer holding the head of a plain or signed
// envelope for the storage key and e's fields up to its body
// (cache.AppendEntryHead for a body of n bytes), with room for the body
// and the trailer, placed so that the body will start on a bodyAlign
// boundary; start is where the entry starts in it. (A head larger than
// recordHeadRoom is not aligned.)
func (env *envelope) alignedHead(key string, e *cache.Entry, n int) (buf []byte, start int) {
	const spare = bodyAlign - 1
	alloc := make([]byte, spare, spare+envHeadLen+recordHeadRoom+n+envTrailerMax)
	buf = env.head(key, alloc[spare:spare])
	start = len(buf)
	buf = cache.AppendEntryHead(buf, e, n)
	h := len(buf)
	if spare+h+n+envTrailerMax > cap(alloc) {
		// The head outgrew its room, so buf is no longer in alloc (or the
		// rest would not fit after it): the record is left unaligned.
		return slices.Grow(buf, n+envTrailerMax), start
	}
	pad := alignPad(alloc, h)
	copy(alloc[pad:pad+h], buf)
	return alloc[pad : pad+h], start
}

// alignPad returns the p in [0, bodyAlign) for which b[p+off] starts on a
// bodyAlign boundary in memory. (The Go heap does not move objects.)
func alignPad(b []byte, off int) int {
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b))) + uintptr(off)
	return int((bodyAlign - addr%bodyAlign) % bodyAlign)
}

// head appends the head of a plain or signed envelope for the storage key
// to out.
func (env *envelope) head(key string, out []byte) []byte {
	if env.kind == envSigned {
		out = append(out, envMagic0, envMagic1, envSigned)
		return append(out, env.sign[0].id[:]...)
	}
	out = append(out, envMagic0, envMagic1, envPlain)
	return binary.BigEndian.AppendUint32(out, env.keyChecksum(key))
}

// finish completes a plain or signed record: out holds the head, then,
// from start, the entry without its checksum (cache.AppendEntryHead and
// the body). It appends the checksum and, for a signed record, the
// signature.
func (env *envelope) finish(key string, out []byte, start int) []byte {
	out = cache.FinishEntry(out, start)
	if env.kind == envSigned {
		k := &env.sign[0]
		m := k.mac(key, out)
		out = append(out, m.sum[:]...)
		k.macs.Put(m)
	}
	return out
}

// mac returns the HMAC of the storage key and signed (envelope head and
// entry) under k, in a state to give back to k.macs.
func (k *signKey) mac(key string, signed []byte) *macState {
	m := k.macs.Get().(*macState)
	m.h.Reset()
	m.key = binary.AppendUvarint(m.key[:0], uint64(len(key)))
	m.key = append(m.key, key...)
	m.h.Write(m.key)
	m.h.Write(signed)
	m.h.Sum(m.sum[:0])
	if cap(m.key) > 4<<10 {
		m.key = nil
	}
	return m
}

func (env *envelope) keyChecksum(key string) uint32 {
	kb := env.keyBytes(key)
	sum := crc32.Checksum(*kb, env.crc32)
	env.put(kb)
	return sum
}

// unwrap returns the codec's bytes inside b, read under the storage key, or
// an error wrapping ErrRejected. verify reports whether the failure is one
// of authenticity (a signed or sealed record that does not check out, or a
// record of another kind where one was required) rather than of plain
// integrity. The bytes returned alias b for plain and signed records; an
// opened sealed record is a new slice.
func (env *envelope) unwrap(key string, b []byte) (entry []byte, verify bool, err error) {
	if len(b) < envHeadLen || b[0] != envMagic0 || b[1] != envMagic1 {
		return nil, env.kind != envPlain, fmt.Errorf("%w: no envelope (written without a key, or by an older version)", ErrRejected)
	}
	if b[2] != env.kind {
		return nil, env.kind != envPlain, fmt.Errorf("%w: a %s record where %s ones are required", ErrRejected, envKindName(b[2]), envKindName(env.kind))
	}
	id := [KeyIDSize]byte(b[3:envHeadLen])
	switch env.kind {
	case envSigned:
		if len(b) < envHeadLen+envMACLen {
			return nil, true, fmt.Errorf("%w: signed record truncated", ErrRejected)
		}
		for i := range env.sign {
			k := &env.sign[i]
			if k.id != id {
				continue
			}
			end := len(b) - envMACLen
			m := k.mac(key, b[:end])
			ok := hmac.Equal(m.sum[:], b[end:])
			k.macs.Put(m)
			if !ok {
				return nil, true, fmt.Errorf("%w: signature does not match (tampered, or stored under another key)", ErrRejected)
			}
			return b[envHeadLen:end:end], false, nil
		}
		return nil, true, fmt.Errorf("%w: signed with unknown key id %x", ErrRejected, id)
	case envSealed:
		for i := range env.seal {
			k := &env.seal[i]
			if k.id != id {
				continue
			}
			aad := env.keyBytes(key)
			plain, err := k.aead.Open(nil, nil, b[envHeadLen:], *aad)
			env.put(aad)
			if err != nil {
				return nil, true, fmt.Errorf("%w: cannot be opened (tampered, or stored under another key)", ErrRejected)
			}
			return plain, false, nil
		}
		return nil, true, fmt.Errorf("%w: sealed with unknown key id %x", ErrRejected, id)
	default:
		if binary.BigEndian.Uint32(b[3:envHeadLen]) != env.keyChecksum(key) {
			return nil, false, fmt.Errorf("%w: stored under another key", ErrRejected)
		}
		return b[envHeadLen:], false, nil
	}
}

func envKindName(k byte) string {
	switch k {
	case envPlain:
		return "plain"
	case envSigned:
		return "signed"
	case envSealed:
		return "sealed"
	}
	return fmt.Sprintf("unknown (%q)", k)
}
