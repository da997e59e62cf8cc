// The one translation unit that compiles Boost.Asio (BOOST_ASIO_SEPARATE_COMPILATION), so that
// every other file only includes its declarations: this keeps 2-core builds lean.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
