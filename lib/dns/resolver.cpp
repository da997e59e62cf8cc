// Resolver: each lookup is a heap Query handed to c-ares as void* and completed by posting to the
// awaiting coroutine's executor; response.cpp turns c-ares replies into Answers.
// SECURITY: the responses come from the network and are read by response.cpp (c-ares'
// bounds-checked parsers and wire.cpp); every function c-ares calls is noexcept.
#include "lib/dns/resolver.hpp"

#include <arpa/inet.h>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <span>
#include <utility>

#include "lib/dns/ares.hpp"
#include "lib/dns/channel.hpp"
#include "lib/dns/response.hpp"
#include "lib/dns/wire.hpp"

namespace hk::dns {

namespace asio = boost::asio;
using detail::Channel;

namespace {

std::span<const unsigned char> message(const unsigned char* abuf, int alen) {
  if (abuf == nullptr || alen <= 0) {
    return {};
  }
  return {abuf, static_cast<std::size_t>(alen)};
}

// The parsers the Query template is instantiated with: each names its record type and query
// type and reads a successful response through response.hpp.

struct MxParser {
  using Record = MxRecord;
  static constexpr RecordType kType = RecordType::Mx;
  Answer<MxRecord> operator()(std::span<const unsigned char> msg) const {
    return parse_mx_response(msg);
  }
};

template <RecordType Type>
struct AddressParser {
  using Record = asio::ip::address;
  static constexpr RecordType kType = Type;
  Answer<Record> operator()(std::span<const unsigned char> msg) const {
    return Type == RecordType::A ? parse_a_response(msg) : parse_aaaa_response(msg);
  }
};

using AParser = AddressParser<RecordType::A>;
using AaaaParser = AddressParser<RecordType::Aaaa>;

struct TxtParser {
  using Record = std::string;
  static constexpr RecordType kType = RecordType::Txt;
  Answer<std::string> operator()(std::span<const unsigned char> msg) const {
    return parse_txt_response(msg);
  }
};

struct PtrParser {
  using Record = std::string;
  static constexpr RecordType kType = RecordType::Ptr;
  asio::ip::address addr;
  Answer<std::string> operator()(std::span<const unsigned char> msg) const {
    return parse_ptr_response(msg, addr);
  }
};

struct TlsaParser {
  using Record = TlsaRecord;
  static constexpr RecordType kType = RecordType::Tlsa;
  Answer<TlsaRecord> operator()(std::span<const unsigned char> msg) const {
    return parse_tlsa_response(msg);
  }
};

// The part of a Query that c-ares and the cancellation slot see, whatever its handler type. All
// of it runs on the Resolver's thread.
class QueryBase {
 public:
  QueryBase() = default;
  QueryBase(const QueryBase&) = delete;
  QueryBase& operator=(const QueryBase&) = delete;
  virtual ~QueryBase() = default;

  virtual void cancel() noexcept = 0;
  void release() noexcept {
    if (--refs_ == 0) {
      delete this;
    }
  }

 private:
  // One reference for c-ares (until it calls back, which it does exactly once), one for the
  // completion on its way to the handler.
  int refs_ = 2;
};

// Holds one reference to a Query and drops it when destroyed, also when a queued completion is
// destroyed without running because its io_context is going away.
class QueryRef {
 public:
  explicit QueryRef(QueryBase* q) : q_(q) {}
  QueryRef(QueryRef&& other) noexcept : q_(std::exchange(other.q_, nullptr)) {}
  QueryRef& operator=(QueryRef&&) = delete;
  ~QueryRef() { reset(); }
  void reset() noexcept {
    if (q_ != nullptr) {
      std::exchange(q_, nullptr)->release();
    }
  }

 private:
  QueryBase* q_;
};

// Installed in the awaiting coroutine's cancellation slot.
struct CancelRequest {
  QueryBase* query;
  void operator()(asio::cancellation_type type) const noexcept {
    if (type != asio::cancellation_type::none) {
      query->cancel();
    }
  }
};

// Posted to the handler's executor; a named type, since GCC 12 mishandles lambdas around
// co_await.
template <class Handler, class Record>
struct Completion {
  Handler handler;
  Answer<Record> answer;
  QueryRef ref;

  void operator()() {
    // Outside the cancellation handler now, so the slot may drop the CancelRequest.
    asio::get_associated_cancellation_slot(handler).clear();
    ref.reset();
    std::move(handler)(std::move(answer));
  }
};

template <class Parser, class Handler>
class Query final : public QueryBase {
 public:
  using Record = typename Parser::Record;

  Query(Parser parser, Handler handler, const asio::any_io_executor& io_ex)
      : parser_(std::move(parser)),
        handler_(std::move(handler)),
        io_ex_(io_ex),
        work_(asio::make_work_guard(asio::get_associated_executor(*handler_, io_ex_))) {}

  static void start(std::unique_ptr<Query> owned, Channel& channel, const std::string& name) {
    auto slot = asio::get_associated_cancellation_slot(*owned->handler_);
    Query* q = owned.release();  // owned through its references from here on
    if (slot.is_connected()) {
      slot.template emplace<CancelRequest>(CancelRequest{q});  // clang 14: no T(aggregate) init
    }
    if (name.find('\0') != std::string::npos) {
      on_answer(q, ARES_EBADNAME, 0, nullptr, 0);  // c-ares would read up to the NUL
      return;
    }
    channel.query(name, Parser::kType, &Query::on_answer, q);
  }

  void cancel() noexcept override {
    if (!done_) {
      Answer<Record> a;
      a.ec = Error::Cancelled;
      finish(std::move(a));
    }
  }

 private:
  static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf,
                        int alen) noexcept {
    auto* q = static_cast<Query*>(arg);
    QueryRef ref(q);  // c-ares' reference, dropped on return
    if (q->done_) {
      return;  // the caller cancelled: drop the late answer
    }
    q->finish(q->parse(status, message(abuf, alen)));
  }

  Answer<Record> parse(int status, std::span<const unsigned char> msg) noexcept {
    try {
      Answer<Record> a = status == ARES_SUCCESS ? parser_(msg) : failed_answer<Record>(status, msg);
      if (!a.ec && a.records.empty()) {
        a.ec = Error::NoData;
      }
      a.authenticated = authenticated_data(msg);
      return a;
    } catch (const std::exception&) {
      Answer<Record> a;
      a.ec = Error::Failed;
      return a;
    }
  }

  void finish(Answer<Record> answer) noexcept {
    done_ = true;
    auto ex = asio::get_associated_executor(*handler_, io_ex_);
    Completion<Handler, Record> c{std::move(*handler_), std::move(answer), QueryRef(this)};
    handler_.reset();
    asio::post(ex, std::move(c));
    work_.reset();
  }

  Parser parser_;
  std::optional<Handler> handler_;
  asio::any_io_executor io_ex_;
  asio::executor_work_guard<asio::associated_executor_t<Handler, asio::any_io_executor>> work_;
  bool done_ = false;
};

template <class Parser>
struct StartQuery {
  std::shared_ptr<Channel> channel;

  template <class Handler>
  void operator()(Handler&& handler, std::string name, Parser parser) const {
    using Q = Query<Parser, std::decay_t<Handler>>;
    auto q =
        std::make_unique<Q>(std::move(parser), std::forward<Handler>(handler), channel->executor());
    Q::start(std::move(q), *channel, name);
  }
};

template <class Parser>
asio::awaitable<Answer<typename Parser::Record>> lookup(const std::shared_ptr<Channel>& channel,
                                                        std::string name, Parser parser) {
  return asio::async_initiate<const asio::use_awaitable_t<>, void(Answer<typename Parser::Record>)>(
      StartQuery<Parser>{channel}, asio::use_awaitable, std::move(name), std::move(parser));
}

}  // namespace

Resolver::Resolver(asio::any_io_executor ex, Options opts)
    : channel_(Channel::create(std::move(ex), opts)) {}

Resolver::~Resolver() {
  channel_->shutdown();
  for (Retired& r : retired_) {
    r.channel->shutdown();
  }
}

void Resolver::reconfigure(const Options& opts) {
  auto now = std::chrono::steady_clock::now();
  std::shared_ptr<Channel> fresh = Channel::create(channel_->executor(), opts);
  std::erase_if(retired_, [now](Retired& r) {
    if (r.until > now) {
      return false;
    }
    r.channel->shutdown();
    return true;
  });
  retired_.push_back({std::move(channel_), now + kRetiredFor});
  channel_ = std::move(fresh);
}

asio::awaitable<Answer<MxRecord>> Resolver::mx(std::string name) {
  return lookup(channel_, std::move(name), MxParser{});
}

asio::awaitable<Answer<asio::ip::address>> Resolver::a(std::string name) {
  return lookup(channel_, std::move(name), AParser{});
}

asio::awaitable<Answer<asio::ip::address>> Resolver::aaaa(std::string name) {
  return lookup(channel_, std::move(name), AaaaParser{});
}

asio::awaitable<Answer<std::string>> Resolver::txt(std::string name) {
  return lookup(channel_, std::move(name), TxtParser{});
}

asio::awaitable<Answer<std::string>> Resolver::ptr(asio::ip::address addr) {
  return lookup(channel_, reverse_name(addr), PtrParser{addr});
}

asio::awaitable<Answer<TlsaRecord>> Resolver::tlsa(std::string name) {
  return lookup(channel_, std::move(name), TlsaParser{});
}

void Resolver::cancel_all() {
  channel_->cancel_all();
  for (Retired& r : retired_) {
    r.channel->cancel_all();
  }
}

asio::any_io_executor Resolver::get_executor() const { return channel_->executor(); }

}  // namespace hk::dns
