// DataReader: incremental DATA body reader.
#include "lib/smtp/data_reader.hpp"

#include <cstring>

#include "lib/smtp/text.hpp"

namespace hk::smtp {
namespace {

// Enough of a header line to recognise "Received" followed by optional WSP and ':' (RFC 5322
// §3.6.7 trace fields; §4.5.3 obsolete syntax allows WSP before the colon).
constexpr size_t kHeadKeep = 32;

bool is_received_field(std::string_view head) {
  constexpr std::string_view kName = "received";
  if (!istarts_with(head, kName)) {
    return false;
  }
  head.remove_prefix(kName.size());
  while (!head.empty() && (head.front() == ' ' || head.front() == '\t')) {
    head.remove_prefix(1);
  }
  return !head.empty() && head.front() == ':';
}

}  // namespace

DataReader::DataReader(uint64_t max_size) : max_size_(max_size) {}

void DataReader::fail(Error e) {
  if (error_ == Error::None) {
    error_ = e;
  }
  // The message will be refused: what was stored is of no use, and keeping memory (or the
  // spool) bounded matters more than anything in it.
  discard_ = true;
  body_.clear();
  body_.shrink_to_fit();
}

void DataReader::emit(std::string_view bytes) {
  if (in_headers_ && line_head_.size() < kHeadKeep) {
    line_head_ += bytes.substr(0, kHeadKeep - line_head_.size());
  }
  store(bytes);
}

void DataReader::store(std::string_view bytes) {
  size_ += bytes.size();
  if (discard_) {
    return;
  }
  if (size_ > max_size_) {
    fail(Error::TooBig);
    return;
  }
  body_.append(bytes);
}

void DataReader::end_line() {
  if (in_headers_) {
    if (line_head_.empty()) {
      in_headers_ = false;  // the empty line that ends the header section (RFC 5322 §2.1)
    } else if (is_received_field(line_head_)) {
      ++received_;
    }
    line_head_.clear();
  }
  store("\r\n");
}

size_t DataReader::feed(std::string_view bytes) {
  // The first NUL of this piece, found with one scan; every byte that is not CR or LF passes
  // through the Text state's runs below, where it is compared against.
  size_t nul = std::string_view::npos;
  if (error_ == Error::None) {
    if (const void* p = std::memchr(bytes.data(), '\0', bytes.size())) {
      nul = static_cast<size_t>(static_cast<const char*>(p) - bytes.data());
    }
  }
  size_t i = 0;
  while (i < bytes.size() && state_ != State::Done) {
    char c = bytes[i];
    switch (state_) {
      case State::LineStart:
        if (c == '.') {
          state_ = State::Dot;
          ++i;
          continue;
        }
        state_ = State::Text;
        continue;  // handle c as text
      case State::Dot:
        if (c == '\r') {
          state_ = State::DotCr;
          ++i;
          continue;
        }
        // RFC 5321 §4.5.2: a leading dot is removed; "..x" carried ".x". A lone ".x" from a
        // client that did not stuff is read the same way.
        state_ = State::Text;
        continue;
      case State::DotCr:
        if (c == '\n') {
          state_ = State::Done;
          ++i;
          continue;
        }
        // ".\r" then anything but LF: that CR was bare. Reprocess c inside the line.
        fail(Error::BareLineEnding);
        emit("\r");
        state_ = State::Text;
        continue;
      case State::Text: {
        if (c == '\r') {
          state_ = State::Cr;
          ++i;
          continue;
        }
        if (c == '\n') {
          // A bare LF neither ends a line nor starts one: "\n.\r\n" stays inside the text.
          fail(Error::BareLineEnding);
          emit("\n");
          ++i;
          continue;
        }
        size_t end = find_line_break(bytes, i);
        if (end == std::string_view::npos) {
          end = bytes.size();
        }
        if (nul < end) {
          // nul >= i: the bytes before i held no NUL. The bytes before the NUL are stored first,
          // so that the first error is the same however the input is cut into pieces (a size
          // limit passed before the NUL comes first).
          emit(bytes.substr(i, nul - i));
          fail(Error::NulByte);
          i = nul;
          nul = std::string_view::npos;  // later NULs of this piece change nothing
        }
        emit(bytes.substr(i, end - i));
        i = end;
        continue;
      }
      case State::Cr:
        if (c == '\n') {
          end_line();
          state_ = State::LineStart;
          ++i;
          continue;
        }
        // The CR just before c was bare.
        fail(Error::BareLineEnding);
        emit("\r");
        state_ = State::Text;
        continue;
      case State::Done:
        break;
    }
  }
  return i;
}

Reply reply_for(DataReader::Error error) {
  switch (error) {
    case DataReader::Error::BareLineEnding:
      return Reply(554, "5.6.0", "Bare CR or LF not allowed in message; use CRLF line endings");
    case DataReader::Error::NulByte:
      return Reply(554, "5.6.0", "NUL characters not allowed in message");
    case DataReader::Error::TooBig:
      return Reply(552, "5.3.4", "Message too big");
    case DataReader::Error::None:
      break;
  }
  return Reply(250, "2.0.0", "OK");
}

}  // namespace hk::smtp
