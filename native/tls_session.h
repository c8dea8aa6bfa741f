// A TLS 1.3 connection's record layer after the handshake (tls_session.cc): Node's TLS socket
// runs the handshake, and the traffic secrets it logs are handed here, so that the records of
// the transmission phase can be sealed and opened by the connection loop's thread as well as
// by the event loop (tls-records.ts). Only the record layer: KeyUpdate is followed, any other
// handshake message after the handshake ends the connection.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace blockscope {

enum class TlsSuite { AES_128_GCM_SHA256 = 0, AES_256_GCM_SHA384 = 1, CHACHA20_POLY1305_SHA256 = 2 };

constexpr size_t TLS_HEADER = 5;
constexpr size_t TLS_TAG = 16;
// The most plaintext a record carries (RFC 8446, 5.1).
constexpr size_t TLS_MAX_PLAIN = 16384;
// Header, inner content type and tag around each record's plaintext.
constexpr size_t TLS_OVERHEAD = TLS_HEADER + 1 + TLS_TAG;

// One direction's traffic secret, key, IV and record sequence number.
class TlsDirection {
 public:
  TlsDirection() = default;
  TlsDirection(const TlsDirection&) = delete;
  TlsDirection& operator=(const TlsDirection&) = delete;
  ~TlsDirection();

  bool Init(TlsSuite suite, const uint8_t* secret, size_t secretLength, uint64_t seq);
  // The next traffic secret (KeyUpdate), and the keys from it; the sequence starts again at 0.
  bool Update();
  // Seals `length` bytes of `plain` (at most TLS_MAX_PLAIN) into the record at `rec`, which
  // has room for length + TLS_OVERHEAD bytes. `plain` may be rec + TLS_HEADER (in place).
  bool Seal(const uint8_t* plain, size_t length, uint8_t type, uint8_t* rec);
  // Opens the whole record at `rec` (header included) in place: its content starts at
  // rec + TLS_HEADER and is *length bytes long. False when it is not authentic.
  bool Open(uint8_t* rec, size_t recLength, size_t* length, uint8_t* type);
  uint64_t seq() const { return seq_; }

 private:
  bool Keys();
  void Nonce(uint8_t* nonce) const;

  TlsSuite suite_ = TlsSuite::AES_256_GCM_SHA384;
  std::vector<uint8_t> secret_;
  uint8_t iv_[12] = {};
  uint64_t seq_ = 0;
  EVP_CIPHER_CTX* seal_ = nullptr;
  EVP_CIPHER_CTX* open_ = nullptr;
};

// Both directions of a server's connection, and the bytes of a record not all received yet.
class TlsSession {
 public:
  enum Status { OK, CLOSED, FAILED };

  TlsDirection in;
  TlsDirection out;

  // Takes ciphertext from the client and appends the plaintext of every whole record to
  // `plain`. CLOSED at the client's close_notify; FAILED with `error` set (a forged or broken
  // record, an alert, a handshake message other than KeyUpdate), after which `reply` holds
  // the alert to send before closing. A KeyUpdate that asks for ours leaves it in `reply`,
  // to be sent before anything else.
  Status Receive(const uint8_t* data, size_t length, std::vector<uint8_t>* plain, std::vector<uint8_t>* reply, std::string* error);
  // Writes the records that carry `length` bytes of application data to `records`, which has
  // room for TlsRecordsSize(length) bytes. No record for no bytes.
  bool Send(const uint8_t* data, size_t length, uint8_t* records);
  // Seals in place the records laid out at `records` for `length` bytes of application data:
  // record i at i * (TLS_MAX_PLAIN + TLS_OVERHEAD), its plaintext already TLS_HEADER bytes in
  // (TlsRecordsSize(length) bytes in all). Reading a file straight into those places saves a
  // copy of every byte sent.
  bool SealInPlace(uint8_t* records, size_t length);
  // Appends an alert record (close_notify is 0) to `records`.
  bool Alert(uint8_t description, std::vector<uint8_t>* records);
  // Bytes received that do not yet make a whole record.
  size_t pending() const { return pending_.size(); }

 private:
  Status OpenRecord(uint8_t* rec, size_t recLength, std::vector<uint8_t>* plain, std::vector<uint8_t>* reply, std::string* error);
  bool SealOne(const uint8_t* data, size_t length, uint8_t type, std::vector<uint8_t>* records);
  // Send's and SealInPlace's records: from `data`, or where it is null from their own places.
  bool SealRun(const uint8_t* data, size_t length, uint8_t* records);


  std::vector<uint8_t> pending_;
  // The client's close_notify came: every later Receive says CLOSED again, whoever calls it.
  bool closed_ = false;
  // Handshake bytes of a KeyUpdate split over records (rare, but allowed).
  std::vector<uint8_t> handshake_;
};

// Bytes of records that carry `plainLength` bytes of plaintext.
inline size_t TlsRecordsSize(size_t plainLength) {
  const size_t records = (plainLength + TLS_MAX_PLAIN - 1) / TLS_MAX_PLAIN;
  return plainLength + records * TLS_OVERHEAD;
}

}  // namespace blockscope
