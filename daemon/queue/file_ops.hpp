// FileOps: the file system calls of the queue's write path behind one seam, so that tests can make
// the Nth write or fsync fail (ENOSPC, EIO) without a real full disk (Beast's fail_count idea).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <system_error>

namespace hk::queue {

// Calls may come from several threads at once: a batch's fdatasyncs run concurrently.
class FileOps {
 public:
  virtual ~FileOps() = default;
  // open(2); on success stores the descriptor in `fd`.
  virtual std::error_code open(const std::filesystem::path& path, int flags, mode_t mode, int& fd);
  // Writes all of `data`, retrying on EINTR and short writes.
  virtual std::error_code write(int fd, std::string_view data);
  // Writes all of `parts` one after the other with writev(2): one system call where write()
  // would take one per part. Retries on EINTR and short writes.
  virtual std::error_code write_parts(int fd, std::span<const std::string_view> parts);
  // Appends `size` bytes of `in_fd`, from its offset 0, to `out_fd` at its file position:
  // copy_file_range(2) (no trip through user space; a reflink where the file system can), or
  // pread/write where the kernel cannot copy between these files.
  virtual std::error_code copy(int out_fd, int in_fd, uint64_t size);
  // fdatasync(2): for a new file this also makes its size durable.
  virtual std::error_code sync(int fd);
  virtual std::error_code close(int fd);
  // renameat2(RENAME_NOREPLACE): fails with EEXIST rather than replace `to`.
  virtual std::error_code rename_noreplace(const std::filesystem::path& from,
                                           const std::filesystem::path& to);
  // fsync(2) on a directory.
  virtual std::error_code sync_dir(const std::filesystem::path& dir);
};

// Which call a FailingFileOps counts.
enum class FileOp { Open, Write, Sync, Close, Rename, SyncDir };

// Fails the `nth` (1-based) call of `op` with `error`, and every later one when `sticky` (a disk
// that stays full); every other call goes to the real file system.
class FailingFileOps final : public FileOps {
 public:
  FailingFileOps(FileOp op, int nth, std::errc error, bool sticky = false)
      : op_(op), nth_(nth), error_(error), sticky_(sticky) {}

  std::error_code open(const std::filesystem::path& path, int flags, mode_t mode, int& fd) override;
  std::error_code write(int fd, std::string_view data) override;
  std::error_code write_parts(int fd,
                              std::span<const std::string_view> parts) override;  // a Write
  std::error_code copy(int out_fd, int in_fd, uint64_t size) override;            // a Write
  std::error_code sync(int fd) override;
  std::error_code close(int fd) override;
  std::error_code rename_noreplace(const std::filesystem::path& from,
                                   const std::filesystem::path& to) override;
  std::error_code sync_dir(const std::filesystem::path& dir) override;

  int calls() const { return calls_.load(); }  // calls of `op` so far

 private:
  bool fail_now(FileOp op);

  FileOp op_;
  int nth_;
  std::errc error_;
  bool sticky_;
  std::atomic<int> calls_{0};
};

}  // namespace hk::queue
