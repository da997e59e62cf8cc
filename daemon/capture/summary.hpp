// Summaries: what the index keeps of one captured message, built from its envelope and the first
// bytes of the message — on put, and at startup from the stored files (reading only their heads).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "daemon/capture/capture_store.hpp"
#include "daemon/queue/spool.hpp"
#include "lib/queue/envelope.hpp"

namespace hk::capture {

// The most of a message read to summarise it: the header section and the start of the text
// (for the snippet) are in it for all but odd messages, and a 50 MB attachment costs no more to
// index than a short note. A part cut here still counts as an attachment.
inline constexpr size_t kSummaryBytes = 64 * 1024;

// `head`: the first bytes of the message (at most kSummaryBytes are looked at); `size`: the whole
// message's size in bytes.
Summary summarize(const queue::Envelope& env, std::string_view head, uint64_t size);

// When the message arrived: the microseconds in a store ID (QueueStore::new_id) when they agree
// with env.created (whole seconds in the file), else env.created. The same after a restart as
// on put, so that `wait(since)` and the API's Created never change.
queue::TimePoint created_of(const queue::Envelope& env);

// The first kSummaryBytes of a message being put (its head, then the body from memory or from
// the spool file). Errors of the spool file's read are returned.
std::error_code message_head(const queue::MessageData& message, std::string& out);

// Reads a stored capture file's envelope and the first kSummaryBytes of its message, without
// reading the rest; `size` is the message's size. bad_message when the file is not one of ours
// or its id line names another message.
std::error_code read_stored(const std::filesystem::path& file, const std::string& id,
                            queue::Envelope& env, std::string& head, uint64_t& size);

}  // namespace hk::capture
