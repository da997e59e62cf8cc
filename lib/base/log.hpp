// Logging: one line per event, key=value, to stderr (journald adds the timestamp under systemd).
#pragma once

#include <exception>
#include <sstream>
#include <string>
#include <string_view>

namespace hk::base {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
// Prefixes lines with an ISO-8601 UTC time; on by default, off under journald.
void set_log_timestamps(bool on);
void log_line(LogLevel level, std::string_view line);

// Builds one log line from streamed parts: `Log(LogLevel::Info) << "id=" << id;`
// The line is written when the object goes out of scope.
class Log {
 public:
  explicit Log(LogLevel level) : level_(level) {}
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  ~Log() {
    if (level_ >= log_level()) {
      log_line(level_, out_.str());
    }
  }
  template <class T>
  Log& operator<<(const T& v) {
    if (level_ >= log_level()) {
      out_ << v;
    }
    return *this;
  }

 private:
  LogLevel level_;
  std::ostringstream out_;
};

inline Log log_debug() { return Log(LogLevel::Debug); }
inline Log log_info() { return Log(LogLevel::Info); }
inline Log log_warn() { return Log(LogLevel::Warn); }
inline Log log_error() { return Log(LogLevel::Error); }

// Quotes a value for a key=value log line when it holds spaces, quotes or control characters.
std::string log_quote(std::string_view v);

// For the completion handler of a co_spawn'ed coroutine whose failure must not take the daemon
// down: nothing when `e` is null, else one error line "<prefix> result=internal-error error=..."
// (the exception's what(), or no error= for a non-std exception). Returns whether it logged.
bool log_internal_error(std::exception_ptr e, std::string_view prefix);

}  // namespace hk::base
