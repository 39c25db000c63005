package filesystem

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// An entry file is, in order:
//
//	magic       4 bytes  "RCFS"
//	version     1 byte   formatVersion
//	flags       1 byte   flagExpires when the entry has an expiry
//	reserved    2 bytes  zero
//	expiry      8 bytes  Unix seconds, big-endian two's complement
//	            4 bytes  nanoseconds within the second
//	key length  4 bytes
//	value len   8 bytes
//	key, value
//	checksum    4 bytes  CRC-32C (Castagnoli) of everything before it
//
// The file's name is the lower-case hex SHA-256 of the key, in the
// subdirectory named by its first two characters.
const (
	headerSize    = 32
	shardLen      = 2
	trailerSize   = 4
	formatVersion = 1
	flagExpires   = 1 << 0

	// maxKeyLen bounds the key length a header may claim, so a corrupt
	// header cannot make a walk allocate without limit.
	maxKeyLen = 1 << 20
)

var magic = [4]byte{'R', 'C', 'F', 'S'}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is wrapped by the errors of files that are not well-formed
// entries: foreign, truncated by a crash, or damaged.
var errCorrupt = errors.New("not a valid entry file")

// errVersion is wrapped by the errors of entry files of a format version
// this package does not know, written by a newer one sharing the
// directory: a miss, but not damage to clean up.
var errVersion = errors.New("entry file of an unknown format version")

// header is the fixed part of an entry file.
type header struct {
	expiresAt time.Time // zero: never
	keyLen    uint32
	valueLen  uint64
}

// fileSize is the size of the file the header describes.
func (h header) fileSize() int64 {
	return headerSize + int64(h.keyLen) + int64(h.valueLen) + trailerSize
}

// fileName returns the name of the file of key: its hex SHA-256.
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// isEntryName reports whether name looks like an entry file's name: 64
// lower-case hex digits.
func isEntryName(name string) bool { return len(name) == 2*sha256.Size && isHex(name) }

// isShardName reports whether name is a shard directory's name: two
// lower-case hex digits.
func isShardName(name string) bool { return len(name) == shardLen && isHex(name) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// encodeHeader returns the header and key of an entry file.
func encodeHeader(key string, valueLen int, expiresAt time.Time) []byte {
	b := make([]byte, headerSize, headerSize+len(key))
	copy(b, magic[:])
	b[4] = formatVersion
	if !expiresAt.IsZero() {
		b[5] = flagExpires
		binary.BigEndian.PutUint64(b[8:], uint64(expiresAt.Unix()))
		binary.BigEndian.PutUint32(b[16:], uint32(expiresAt.Nanosecond()))
	}
	binary.BigEndian.PutUint32(b[20:], uint32(len(key)))
	binary.BigEndian.PutUint64(b[24:], uint64(valueLen))
	return append(b, key...)
}

// decodeHeader parses the fixed header at the start of b.
func decodeHeader(b []byte) (header, error) {
	var h header
	if len(b) < headerSize {
		return h, fmt.Errorf("%w: %d bytes, shorter than a header", errCorrupt, len(b))
	}
	if [4]byte(b[:4]) != magic {
		return h, fmt.Errorf("%w: bad magic %q", errCorrupt, b[:4])
	}
	if b[4] != formatVersion {
		return h, fmt.Errorf("%w %d", errVersion, b[4])
	}
	if b[5]&^flagExpires != 0 || b[6] != 0 || b[7] != 0 {
		return h, fmt.Errorf("%w: unknown flags", errCorrupt)
	}
	if b[5]&flagExpires != 0 {
		nsec := binary.BigEndian.Uint32(b[16:])
		if nsec >= 1e9 {
			return h, fmt.Errorf("%w: bad expiry", errCorrupt)
		}
		h.expiresAt = time.Unix(int64(binary.BigEndian.Uint64(b[8:])), int64(nsec))
	}
	h.keyLen = binary.BigEndian.Uint32(b[20:])
	h.valueLen = binary.BigEndian.Uint64(b[24:])
	if h.keyLen > maxKeyLen || h.valueLen > 1<<62 {
		return h, fmt.Errorf("%w: implausible lengths", errCorrupt)
	}
	return h, nil
}

// decodeFile checks a whole entry file read from a file called name and
// returns its header, key and value (a sub-slice of b).
func decodeFile(name string, b []byte) (header, string, []byte, error) {
	h, err := decodeHeader(b)
	if err != nil {
		return h, "", nil, err
	}
	if int64(len(b)) != h.fileSize() {
		return h, "", nil, fmt.Errorf("%w: %d bytes, header says %d", errCorrupt, len(b), h.fileSize())
	}
	body := b[:len(b)-trailerSize]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[len(body):]) {
		return h, "", nil, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	key := string(body[headerSize : headerSize+h.keyLen])
	if fileName(key) != name {
		return h, "", nil, fmt.Errorf("%w: the key does not hash to the file's name", errCorrupt)
	}
	return h, key, body[headerSize+h.keyLen:], nil
}

// readHeader reads the header and key of an entry file from r, whose size
// is size, without reading the value. It checks the lengths against the
// size and the key against the file's name, not the checksum.
func readHeader(r io.Reader, name string, size int64) (header, string, error) {
	var fixed [headerSize]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return header{}, "", fmt.Errorf("%w: %w", errCorrupt, err)
	}
	h, err := decodeHeader(fixed[:])
	if err != nil {
		return h, "", err
	}
	if h.fileSize() != size {
		return h, "", fmt.Errorf("%w: %d bytes, header says %d", errCorrupt, size, h.fileSize())
	}
	kb := make([]byte, h.keyLen)
	if _, err := io.ReadFull(r, kb); err != nil {
		return h, "", fmt.Errorf("%w: %w", errCorrupt, err)
	}
	key := string(kb)
	if fileName(key) != name {
		return h, "", fmt.Errorf("%w: the key does not hash to the file's name", errCorrupt)
	}
	return h, key, nil
}
