// Maildir delivery: writes one message into a local mailbox, durably, following the Maildir
// conventions (https://cr.yp.to/proto/maildir.html): tmp/ → fsync → rename into new/ → fsync.
//
// SECURITY: the mailbox path is built from a recipient address; deliver_to_maildir refuses any
// local part or domain that could leave DATA_DIR/mail (slashes, "..", leading dots, controls).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace hk::queue {

// The mailbox folder of `address` ("user@domain", the last '@' splits): mail_dir/<domain>/<user>
// with the domain lowercased (RFC 5321 §2.4: domains are case-insensitive; the local part is
// kept as is). Returns an empty path for an address that cannot name a folder safely.
std::filesystem::path maildir_path(const std::filesystem::path& mail_dir,
                                   const std::string& address);

// Delivers `message` (CRLF line endings) to the Maildir of `address` under `mail_dir`, creating
// <domain>/<user>/{tmp,new,cur} (0700) on demand. The file is
// "Return-Path: <return_path>\r\nDelivered-To: <address>\r\n" followed by the message, named
// "<secs>.M<usec>P<pid>Q<counter>.<hostname>,S=<size>". Returns once the file and new/ are
// fsynced; std::errc::invalid_argument for an unusable address, errno values otherwise.
// Blocking: call it from the thread pool.
std::error_code deliver_to_maildir(const std::filesystem::path& mail_dir,
                                   const std::string& address, const std::string& return_path,
                                   std::string_view message, std::string hostname);

// One message's copy for one mailbox, prepared for a writer that does the write, fsync and
// rename itself (QueueStore::deliver_local): the mailbox folder, a unique file name, and the
// header lines to put before the message.
struct MaildirCopy {
  std::filesystem::path box;
  std::string name;
  std::string head;
};
// Creates the folders of `address`'s Maildir and fills `out`; blocking.
std::error_code prepare_maildir_copy(const std::filesystem::path& mail_dir,
                                     const std::string& address, const std::string& return_path,
                                     size_t message_size, const std::string& hostname,
                                     MaildirCopy& out);

}  // namespace hk::queue
