// TLS 1.3's record protection (RFC 8446, 5.2 and 7.3), with OpenSSL's AEAD ciphers from the
// Node binary that loads this addon: each direction derives its key and IV from its traffic
// secret with HKDF-Expand-Label, seals and opens records in place, and counts them.
#include "tls_session.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string.h>

#include <algorithm>

namespace blockscope {

namespace {

constexpr uint8_t TYPE_ALERT = 21, TYPE_HANDSHAKE = 22, TYPE_APPLICATION_DATA = 23;
constexpr uint8_t HANDSHAKE_KEY_UPDATE = 24;
constexpr uint8_t ALERT_CLOSE_NOTIFY = 0, ALERT_UNEXPECTED_MESSAGE = 10, ALERT_BAD_RECORD_MAC = 20, ALERT_RECORD_OVERFLOW = 22,
                  ALERT_DECODE_ERROR = 50;
// A record's ciphertext may exceed its plaintext's limit by this much (RFC 8446, 5.2).
constexpr size_t MAX_CIPHERTEXT = TLS_MAX_PLAIN + 256;

const EVP_MD* HashOf(TlsSuite suite) { return suite == TlsSuite::AES_256_GCM_SHA384 ? EVP_sha384() : EVP_sha256(); }

const EVP_CIPHER* CipherOf(TlsSuite suite) {
  switch (suite) {
    case TlsSuite::AES_128_GCM_SHA256: return EVP_aes_128_gcm();
    case TlsSuite::AES_256_GCM_SHA384: return EVP_aes_256_gcm();
    case TlsSuite::CHACHA20_POLY1305_SHA256: return EVP_chacha20_poly1305();
  }
  return nullptr;
}

size_t KeyLength(TlsSuite suite) { return suite == TlsSuite::AES_128_GCM_SHA256 ? 16 : 32; }

// HKDF-Expand-Label(secret, label, "", length) for length up to the hash's size: one HMAC
// block is all HKDF-Expand needs then.
bool ExpandLabel(TlsSuite suite, const std::vector<uint8_t>& secret, const char* label, size_t length, uint8_t* out) {
  const size_t labelLength = strlen(label) + 6;
  std::vector<uint8_t> info;
  info.reserve(labelLength + 5);
  info.push_back(static_cast<uint8_t>(length >> 8));
  info.push_back(static_cast<uint8_t>(length));
  info.push_back(static_cast<uint8_t>(labelLength));
  for (const char* p = "tls13 "; *p; p++) info.push_back(static_cast<uint8_t>(*p));
  for (const char* p = label; *p; p++) info.push_back(static_cast<uint8_t>(*p));
  info.push_back(0);  // no context
  info.push_back(1);  // HKDF-Expand's block counter
  uint8_t block[EVP_MAX_MD_SIZE];
  unsigned int blockLength = 0;
  if (!HMAC(HashOf(suite), secret.data(), static_cast<int>(secret.size()), info.data(), info.size(), block, &blockLength)) return false;
  if (length > blockLength) return false;
  memcpy(out, block, length);
  return true;
}

void PutHeader(uint8_t* rec, size_t contentLength) {
  const size_t length = contentLength + 1 + TLS_TAG;
  rec[0] = TYPE_APPLICATION_DATA;
  rec[1] = 3;
  rec[2] = 3;
  rec[3] = static_cast<uint8_t>(length >> 8);
  rec[4] = static_cast<uint8_t>(length);
}

}  // namespace

TlsDirection::~TlsDirection() {
  EVP_CIPHER_CTX_free(seal_);
  EVP_CIPHER_CTX_free(open_);
}

bool TlsDirection::Init(TlsSuite suite, const uint8_t* secret, size_t secretLength, uint64_t seq) {
  suite_ = suite;
  secret_.assign(secret, secret + secretLength);
  seq_ = seq;
  if (secretLength != static_cast<size_t>(EVP_MD_get_size(HashOf(suite)))) return false;
  return Keys();
}

bool TlsDirection::Keys() {
  uint8_t key[32];
  const size_t keyLength = KeyLength(suite_);
  if (!ExpandLabel(suite_, secret_, "key", keyLength, key) || !ExpandLabel(suite_, secret_, "iv", sizeof iv_, iv_)) return false;
  if (!seal_) seal_ = EVP_CIPHER_CTX_new();
  if (!open_) open_ = EVP_CIPHER_CTX_new();
  const bool ok = seal_ && open_ && EVP_EncryptInit_ex(seal_, CipherOf(suite_), nullptr, key, nullptr) == 1
      && EVP_DecryptInit_ex(open_, CipherOf(suite_), nullptr, key, nullptr) == 1;
  OPENSSL_cleanse(key, sizeof key);
  return ok;
}

bool TlsDirection::Update() {
  std::vector<uint8_t> next(secret_.size());
  if (!ExpandLabel(suite_, secret_, "traffic upd", next.size(), next.data())) return false;
  OPENSSL_cleanse(secret_.data(), secret_.size());
  secret_.swap(next);
  seq_ = 0;
  return Keys();
}

void TlsDirection::Nonce(uint8_t* nonce) const {
  memcpy(nonce, iv_, sizeof iv_);
  for (int i = 0; i < 8; i++) nonce[sizeof iv_ - 1 - i] ^= static_cast<uint8_t>(seq_ >> (8 * i));
}

bool TlsDirection::Seal(const uint8_t* plain, size_t length, uint8_t type, uint8_t* rec) {
  if (length > TLS_MAX_PLAIN || seq_ == UINT64_MAX) return false;
  PutHeader(rec, length);
  uint8_t* sealed = rec + TLS_HEADER;
  uint8_t nonce[12];
  Nonce(nonce);
  int n = 0;
  // Out of place unless the caller put the plaintext there: no copy before the cipher's.
  if (EVP_EncryptInit_ex(seal_, nullptr, nullptr, nullptr, nonce) != 1 || EVP_EncryptUpdate(seal_, nullptr, &n, rec, TLS_HEADER) != 1
      || (length > 0 && EVP_EncryptUpdate(seal_, sealed, &n, plain, static_cast<int>(length)) != 1)
      || EVP_EncryptUpdate(seal_, sealed + length, &n, &type, 1) != 1 || EVP_EncryptFinal_ex(seal_, sealed + length + 1, &n) != 1
      || EVP_CIPHER_CTX_ctrl(seal_, EVP_CTRL_AEAD_GET_TAG, TLS_TAG, sealed + length + 1) != 1) {
    return false;
  }
  seq_++;
  return true;
}

bool TlsDirection::Open(uint8_t* rec, size_t recLength, size_t* length, uint8_t* type) {
  if (recLength < TLS_HEADER + 1 + TLS_TAG || seq_ == UINT64_MAX) return false;
  uint8_t* content = rec + TLS_HEADER;
  const int sealed = static_cast<int>(recLength - TLS_HEADER - TLS_TAG);
  uint8_t nonce[12];
  Nonce(nonce);
  int n = 0;
  if (EVP_DecryptInit_ex(open_, nullptr, nullptr, nullptr, nonce) != 1 || EVP_DecryptUpdate(open_, nullptr, &n, rec, TLS_HEADER) != 1
      || EVP_DecryptUpdate(open_, content, &n, content, sealed) != 1
      || EVP_CIPHER_CTX_ctrl(open_, EVP_CTRL_AEAD_SET_TAG, TLS_TAG, content + sealed) != 1 || EVP_DecryptFinal_ex(open_, content + n, &n) != 1) {
    return false;
  }
  seq_++;
  // The inner plaintext is content, type, then zeros of padding.
  size_t end = static_cast<size_t>(sealed);
  while (end > 0 && content[end - 1] == 0) end--;
  if (end == 0) return false;
  *type = content[end - 1];
  *length = end - 1;
  return true;
}

TlsSession::Status TlsSession::Receive(const uint8_t* data, size_t length, std::vector<uint8_t>* plain, std::vector<uint8_t>* reply,
                                       std::string* error) {
  if (closed_) return CLOSED;
  pending_.insert(pending_.end(), data, data + length);
  size_t at = 0;
  Status status = OK;
  while (status == OK && pending_.size() - at >= TLS_HEADER) {
    uint8_t* rec = pending_.data() + at;
    const size_t sealed = static_cast<size_t>(rec[3]) << 8 | rec[4];
    if (rec[0] != TYPE_APPLICATION_DATA || sealed > MAX_CIPHERTEXT) {
      *error = rec[0] != TYPE_APPLICATION_DATA ? "the client sent a TLS record of type " + std::to_string(rec[0]) + " after the handshake"
                                               : "the client sent a TLS record longer than the protocol allows";
      Alert(rec[0] != TYPE_APPLICATION_DATA ? ALERT_UNEXPECTED_MESSAGE : ALERT_RECORD_OVERFLOW, reply);
      status = FAILED;
      break;
    }
    if (pending_.size() - at < TLS_HEADER + sealed) break;
    status = OpenRecord(rec, TLS_HEADER + sealed, plain, reply, error);
    at += TLS_HEADER + sealed;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(at));
  if (status == CLOSED) closed_ = true;
  return status;
}

TlsSession::Status TlsSession::OpenRecord(uint8_t* rec, size_t recLength, std::vector<uint8_t>* plain, std::vector<uint8_t>* reply,
                                          std::string* error) {
  size_t length = 0;
  uint8_t type = 0;
  if (!in.Open(rec, recLength, &length, &type)) {
    *error = "a TLS record from the client failed its integrity check";
    Alert(ALERT_BAD_RECORD_MAC, reply);
    return FAILED;
  }
  const uint8_t* content = rec + TLS_HEADER;
  if (type == TYPE_APPLICATION_DATA) {
    plain->insert(plain->end(), content, content + length);
    return OK;
  }
  if (type == TYPE_ALERT) {
    if (length == 2 && content[1] == ALERT_CLOSE_NOTIFY) return CLOSED;
    *error = length == 2 ? "the client sent TLS alert " + std::to_string(content[1]) : "the client sent a malformed TLS alert";
    return FAILED;
  }
  if (type != TYPE_HANDSHAKE) {
    *error = "the client sent a TLS record of content type " + std::to_string(type);
    Alert(ALERT_UNEXPECTED_MESSAGE, reply);
    return FAILED;
  }
  // Handshake messages may span records; only KeyUpdate is expected after the handshake.
  handshake_.insert(handshake_.end(), content, content + length);
  while (handshake_.size() >= 4) {
    const size_t bodyLength = static_cast<size_t>(handshake_[1]) << 16 | static_cast<size_t>(handshake_[2]) << 8 | handshake_[3];
    if (handshake_[0] != HANDSHAKE_KEY_UPDATE || bodyLength != 1) {
      *error = "the client sent TLS handshake message " + std::to_string(handshake_[0]) + " after the handshake";
      Alert(ALERT_UNEXPECTED_MESSAGE, reply);
      return FAILED;
    }
    if (handshake_.size() < 5) break;
    const uint8_t requested = handshake_[4];
    handshake_.erase(handshake_.begin(), handshake_.begin() + 5);
    if (requested > 1) {
      *error = "the client sent a malformed TLS KeyUpdate";
      Alert(ALERT_DECODE_ERROR, reply);
      return FAILED;
    }
    if (!in.Update()) {
      *error = "TLS key update failed";
      return FAILED;
    }
    if (requested == 1) {
      // Ours goes under the old key; everything after it under the new one.
      const uint8_t ours[5] = {HANDSHAKE_KEY_UPDATE, 0, 0, 1, 0};
      if (!SealOne(ours, sizeof ours, TYPE_HANDSHAKE, reply) || !out.Update()) {
        *error = "TLS key update failed";
        return FAILED;
      }
    }
  }
  return OK;
}

bool TlsSession::SealOne(const uint8_t* data, size_t length, uint8_t type, std::vector<uint8_t>* records) {
  const size_t at = records->size();
  records->resize(at + length + TLS_OVERHEAD);
  return out.Seal(data, length, type, records->data() + at);
}

bool TlsSession::Send(const uint8_t* data, size_t length, uint8_t* records) { return SealRun(data, length, records); }

bool TlsSession::SealInPlace(uint8_t* records, size_t length) { return SealRun(nullptr, length, records); }

bool TlsSession::SealRun(const uint8_t* data, size_t length, uint8_t* records) {
  for (size_t done = 0; done < length;) {
    const size_t n = std::min(TLS_MAX_PLAIN, length - done);
    if (!out.Seal(data ? data + done : records + TLS_HEADER, n, TYPE_APPLICATION_DATA, records)) return false;
    records += n + TLS_OVERHEAD;
    done += n;
  }
  return true;
}

bool TlsSession::Alert(uint8_t description, std::vector<uint8_t>* records) {
  const uint8_t alert[2] = {static_cast<uint8_t>(description == ALERT_CLOSE_NOTIFY ? 1 : 2), description};
  return SealOne(alert, sizeof alert, TYPE_ALERT, records);
}

}  // namespace blockscope
