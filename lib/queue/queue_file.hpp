// Queue file format: encoding and parsing of a message file's envelope header block and of the
// per-recipient state sidecar. Pure functions, string in/out; the layout is described at the top
// of queue_store.hpp and in docs/queue-format.md.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "lib/queue/envelope.hpp"

namespace hk::queue {

// "pending", "delivered" or "failed": the state's name in the state sidecar and in `queue show`.
std::string_view to_string(RcptState s);

inline constexpr std::string_view kMessageMagic = "hikyaku-queue 1";
inline constexpr std::string_view kStateMagic = "hikyaku-state 1";
inline constexpr size_t kMaxIdLength = 64;

// Whether `id` may name a queue file: 1..kMaxIdLength characters of [0-9A-Za-z_-], so that it
// can never be a path, a dot file or collide with the ".msg"/".state" suffixes.
bool valid_id(std::string_view id);

// Percent-escapes every byte that would break a line or a space-separated field: controls
// (CR, LF, NUL…), space, DEL and '%' itself. UTF-8 bytes pass through unchanged.
std::string escape_value(std::string_view v);
// The inverse; false on a malformed escape ("%", "%4", "%zz").
bool unescape_value(std::string_view v, std::string& out);

// The header block of a message file: magic line, `key: value` lines, then an empty line. The
// result ends with "\n\n"; the message bytes follow it directly.
std::string encode_header(const Envelope& env);

// The offset of the first message byte in `file` (just past the header's empty line), or
// std::string_view::npos when the header block is not complete in `file`.
size_t header_end(std::string_view file);

// Parses a header block into `env` (every field is replaced; rcpts are all Pending). Returns
// std::errc::bad_message for a wrong magic line, a malformed line or a missing id/created.
std::error_code parse_header(std::string_view header, Envelope& env);

// The state sidecar: magic line, a `delay-warned:` line (unix seconds) once the sender was told
// that the message is delayed, then one `rcpt:` line per recipient with its index, state,
// attempts, next attempt (unix seconds), address (checked on load) and last reply in its one-line
// form (reply_line(), split again by split_reply_line() on read). Unknown keys are skipped on read.
std::string encode_state(const Envelope& env);

// Applies a state sidecar to an envelope parsed from its message file. Returns
// std::errc::bad_message when the sidecar is malformed or does not match the recipients.
std::error_code apply_state(std::string_view state, Envelope& env);

}  // namespace hk::queue
