// QueueView: a passive, read-only view of a queue folder (format: docs/queue-format.md) — the IDs
// of its messages, one message's envelope with its per-recipient state and sizes, or its bytes.
// The one reader of the folder, shared by the daemon's QueueStore and `hikyaku-util queue`.
//
// It never writes, creates, renames, cleans up or locks anything, so that it can look at the
// folder of a running daemon: a message removed meanwhile reads as ENOENT, and a state sidecar
// is replaced atomically, so either its old or its new version is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "lib/queue/envelope.hpp"

namespace hk::queue {

inline constexpr std::string_view kMessageSuffix = ".msg";
inline constexpr std::string_view kStateSuffix = ".state";

// The sizes of one <ID>.msg, read with its envelope.
struct MessageSizes {
  uint64_t header = 0;   // the envelope header block, with its empty line
  uint64_t message = 0;  // the message bytes after it, as received
};

class QueueView {
 public:
  explicit QueueView(std::filesystem::path dir);

  // The IDs of complete messages (<ID>.msg with a valid ID; tmp/ and sidecars are not
  // messages), oldest first since IDs sort by creation time. On an error while reading the
  // folder, `ids` holds what was read before it and the error is returned.
  std::error_code list(std::vector<std::string>& ids) const;

  // The envelope of `id`: its header block (not the message bytes), then <ID>.state applied when
  // it exists; `sizes` when given. Errors: EINVAL for an invalid ID (never a path), ENOENT when
  // there is no such message (e.g. delivered meanwhile), bad_message for a malformed file or
  // sidecar or one whose id line names another message, else what the system reported.
  std::error_code load_envelope(const std::string& id, Envelope& env,
                                MessageSizes* sizes = nullptr) const;
  // The envelope as above and the message bytes, with one read of the file.
  std::error_code load(const std::string& id, Envelope& env, std::string& message) const;

  std::filesystem::path message_path(std::string_view id) const;
  std::filesystem::path state_path(std::string_view id) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::error_code load_state(const std::string& id, Envelope& env) const;

  std::filesystem::path dir_;
};

}  // namespace hk::queue
