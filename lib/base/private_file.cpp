// The mode check of secret files.
#include "lib/base/private_file.hpp"

#include <sys/stat.h>

#include <cstdio>

namespace hk::base {

std::string private_file_problem(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return "";  // missing, or not a file: the loader's error says it better
  }
  const bool readable = (st.st_mode & S_IROTH) != 0;
  const bool writable = (st.st_mode & S_IWOTH) != 0;
  if (!readable && !writable) {
    return "";
  }
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  const char* what = readable && writable ? "readable and writable"
                     : readable           ? "readable"
                                          : "writable";
  return file.string() + " is " + what + " by other users (mode " + mode + "); run: chmod 600 " +
         file.string();
}

}  // namespace hk::base
