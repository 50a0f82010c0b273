// ReplyBuilder: appends RESP replies to a byte buffer, in the protocol version the client chose
// with HELLO (2 or 3). Where RESP3 has a richer type (null, map, set, double, boolean,
// verbatim string) the RESP2 form is what Redis 7.0 sends instead: `$-1`, a flat array, an
// array, a bulk string, an integer, a bulk string.
//
// Thread safety: a ReplyBuilder writes into the one buffer it was given; use it from one
// thread at a time.
#ifndef LEARNKV_SERVER_REPLY_H_
#define LEARNKV_SERVER_REPLY_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace learnkv {
namespace server {

class ReplyBuilder {
 public:
  ReplyBuilder(std::string* out, int protocol) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  std::string* buffer() { return out_; }

  void SimpleString(std::string_view s);  // +OK
  void Ok() { out_->append("+OK\r\n"); }
  // `message` starts with the error code ("ERR syntax error", "WRONGPASS ..."); CR and LF in
  // it become spaces.
  void Error(std::string_view message);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void Null();       // RESP2: $-1
  void NullArray();  // RESP2: *-1 (EXEC after a failed transaction, Redis's nil multi-bulk)
  void ArrayHeader(size_t n);
  void MapHeader(size_t pairs);  // RESP2: an array of 2 * pairs
  void SetHeader(size_t n);      // RESP2: an array
  void Double(double v);         // RESP2: bulk string
  void Bool(bool v);             // RESP2: integer 0 / 1
  // A verbatim string ("txt" format) in RESP3, a bulk string in RESP2 (INFO's reply).
  void Verbatim(std::string_view s);

 private:
  void Header(char type, int64_t n);

  std::string* out_;
  int protocol_;
};

}  // namespace server
}  // namespace learnkv

#endif  // LEARNKV_SERVER_REPLY_H_
