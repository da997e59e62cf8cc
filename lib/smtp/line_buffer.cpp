// LineBuffer: bounded splitting of a byte stream into command lines.
#include "lib/smtp/line_buffer.hpp"

namespace hk::smtp {

LineBuffer::LineBuffer(size_t max) : max_(max < 3 ? 3 : max) {}

void LineBuffer::append(std::string_view bytes) {
  if (discarding_) {
    size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      return;
    }
    bytes.remove_prefix(lf + 1);
    discarding_ = false;
  }
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<Line> LineBuffer::next() {
  std::string_view unread = std::string_view(buf_).substr(pos_);
  size_t lf = unread.find('\n');
  // Room for the text: the limit counts the CRLF (RFC 5321 §4.5.3.1.4/§4.5.3.1.6).
  size_t max_text = max_ - 2;
  if (lf == std::string_view::npos) {
    if (unread.size() < max_) {
      return std::nullopt;  // may still end within the limit
    }
    // At least max_ octets and no LF: whatever follows, the text is longer than max_ - 2.
    Line line{std::string(unread.substr(0, max_text)), true};
    buf_.clear();
    pos_ = 0;
    discarding_ = true;
    return line;
  }
  std::string_view text = unread.substr(0, lf);
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  }
  Line line;
  if (text.size() > max_text) {
    line.text = std::string(text.substr(0, max_text));
    line.too_long = true;
  } else {
    line.text = std::string(text);
  }
  pos_ += lf + 1;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return line;
}

std::string LineBuffer::take_rest() {
  std::string rest = buf_.substr(pos_);
  buf_.clear();
  pos_ = 0;
  discarding_ = false;
  return rest;
}

Reply line_too_long_reply() { return Reply(500, "5.5.2", "Line too long"); }

}  // namespace hk::smtp
