// Line, reply and DATA framing over a session's transport.
#include "daemon/server/smtp_channel.hpp"

#include <string_view>

namespace hk::server {

asio::awaitable<std::optional<smtp::Line>> SmtpChannel::read_line() {
  for (;;) {
    if (auto line = lines_.next()) {
      co_return line;
    }
    if (!out_.empty() && !co_await flush()) {
      co_return std::nullopt;
    }
    boost::system::error_code ec;
    std::string_view got = co_await transport_.read_some(ec);
    if (ec) {
      co_return std::nullopt;
    }
    lines_.append(got);
  }
}

asio::awaitable<bool> SmtpChannel::flush() {
  std::string out;
  out.swap(out_);
  auto ec = co_await transport_.write(out);
  co_return !ec;
}

asio::awaitable<bool> SmtpChannel::send(const smtp::Reply& r) {
  out_ += r.wire();
  co_return co_await flush();
}

asio::awaitable<bool> SmtpChannel::read_data(smtp::DataReader& reader, queue::Spool& spool) {
  // Bytes already buffered behind DATA belong to the message; bytes behind the final dot are the
  // next pipelined commands (RFC 2920 §3.1) and go back to the line buffer.
  std::string pending = lines_.take_rest();
  size_t used = reader.feed(pending);
  if (reader.done()) {
    lines_.append(std::string_view(pending).substr(used));
  }
  while (!reader.done()) {
    // What the reader stored goes to the spool as the message outgrows memory; a refused
    // message (the reader stores nothing more) gives its disk space back at once.
    if (reader.error() == smtp::DataReader::Error::None) {
      spool.take(reader.body());
    } else {
      spool.discard();
    }
    boost::system::error_code ec;
    std::string_view chunk = co_await transport_.read_some(ec);
    if (ec) {
      co_return false;
    }
    used = reader.feed(chunk);
    if (reader.done()) {
      lines_.append(chunk.substr(used));
    }
  }
  spool.finish(reader.body());
  co_return true;
}

asio::awaitable<std::optional<std::string>> SmtpChannel::challenge(const smtp::Reply& r) {
  if (!co_await send(r)) {
    co_return std::nullopt;
  }
  auto line = co_await read_line();
  if (!line || line->too_long) {
    co_return std::nullopt;
  }
  co_return line->text;
}

}  // namespace hk::server
