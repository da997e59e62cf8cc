// Resolver: each lookup is a heap Query handed to c-ares as void* and completed by posting to the
// awaiting coroutine's executor; the parsers turn c-ares replies into Answers.
// SECURITY: parses DNS responses from the network, through c-ares' bounds-checked parsers and
// wire.cpp; every function c-ares calls is noexcept.
#include "lib/dns/resolver.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include "lib/dns/ares.hpp"
#include "lib/dns/channel.hpp"
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

int length(std::span<const unsigned char> msg) { return static_cast<int>(msg.size()); }

template <class T>
Answer<T> failure(int status, std::span<const unsigned char> msg) {
  Answer<T> a;
  Error e = error_from_ares(status);
  a.ec = e;
  if (e == Error::NxDomain || e == Error::NoData) {
    a.ttl = negative_ttl(msg).value_or(0);
  }
  return a;
}

// A c-ares parser's refusal of a response that the server sent as a success: c-ares reports a
// malformed name or record as EBADNAME or EBADRESP alike, both a bad response here.
template <class T>
Answer<T> parse_failure(int status, std::span<const unsigned char> msg) {
  if (status == ARES_ENODATA || status == ARES_ENOMEM) {
    return failure<T>(status, msg);  // no record of the type asked for (RFC 2308 §2.2)
  }
  Answer<T> a;
  a.ec = Error::BadResponse;
  return a;
}

// The parsers: each turns the response to a successful query into an Answer.

struct MxParser {
  using Record = MxRecord;
  static constexpr RecordType kType = RecordType::Mx;

  Answer<MxRecord> operator()(std::span<const unsigned char> msg) const {
    ares_mx_reply* raw = nullptr;
    int status = ares_parse_mx_reply(msg.data(), length(msg), &raw);
    MxReplyPtr owned(raw);
    if (status != ARES_SUCCESS) {
      return parse_failure<MxRecord>(status, msg);
    }
    Answer<MxRecord> a;
    for (const ares_mx_reply* r = raw; r != nullptr; r = r->next) {
      a.records.push_back({r->priority, r->host != nullptr ? r->host : ""});
    }
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
  }
};

// c-ares reports A and AAAA TTLs itself (the smaller of the record's and its CNAMEs').
template <class AddrTtl, RecordType Type>
struct AddressParser {
  using Record = asio::ip::address;
  static constexpr RecordType kType = Type;

  Answer<Record> operator()(std::span<const unsigned char> msg) const {
    // A record takes at least 12 octets plus its address (a compressed owner name is 2, the
    // fixed part 10: RFC 1035 §4.1.3), which bounds how many the message can hold.
    constexpr std::size_t kMinRecordSize = 12 + (Type == RecordType::A ? 4 : 16);
    std::vector<AddrTtl> ttls(msg.size() / kMinRecordSize + 1);
    int n = static_cast<int>(ttls.size());
    int status;
    if constexpr (Type == RecordType::A) {
      status = ares_parse_a_reply(msg.data(), length(msg), nullptr, ttls.data(), &n);
    } else {
      status = ares_parse_aaaa_reply(msg.data(), length(msg), nullptr, ttls.data(), &n);
    }
    if (status != ARES_SUCCESS) {
      return parse_failure<Record>(status, msg);
    }
    Answer<Record> a;
    std::uint32_t ttl = UINT32_MAX;
    for (int i = 0; i < std::clamp(n, 0, static_cast<int>(ttls.size())); ++i) {
      const AddrTtl& t = ttls[static_cast<std::size_t>(i)];
      if constexpr (Type == RecordType::A) {
        asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), &t.ipaddr, b.size());
        a.records.emplace_back(asio::ip::address_v4(b));
      } else {
        asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), &t.ip6addr, b.size());
        a.records.emplace_back(asio::ip::address_v6(b));
      }
      ttl = std::min(ttl, static_cast<std::uint32_t>(std::max(t.ttl, 0)));
    }
    a.ttl = a.records.empty() ? 0 : ttl;
    return a;
  }
};

using AParser = AddressParser<ares_addrttl, RecordType::A>;
using AaaaParser = AddressParser<ares_addr6ttl, RecordType::Aaaa>;

struct TxtParser {
  using Record = std::string;
  static constexpr RecordType kType = RecordType::Txt;

  Answer<std::string> operator()(std::span<const unsigned char> msg) const {
    ares_txt_ext* raw = nullptr;
    int status = ares_parse_txt_reply_ext(msg.data(), length(msg), &raw);
    TxtReplyPtr owned(raw);
    if (status != ARES_SUCCESS) {
      return parse_failure<std::string>(status, msg);
    }
    // A TXT record is one or more character-strings (RFC 1035 §3.3.14); c-ares lists each
    // string and marks where a record starts. Users of TXT join them (RFC 7208 §3.3).
    Answer<std::string> a;
    for (const ares_txt_ext* r = raw; r != nullptr; r = r->next) {
      if (r->record_start != 0 || a.records.empty()) {
        a.records.emplace_back();
      }
      a.records.back().append(reinterpret_cast<const char*>(r->txt), r->length);
    }
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
  }
};

struct PtrParser {
  using Record = std::string;
  static constexpr RecordType kType = RecordType::Ptr;
  asio::ip::address addr;

  Answer<std::string> operator()(std::span<const unsigned char> msg) const {
    hostent* raw = nullptr;
    int status;
    if (addr.is_v4()) {
      auto b = addr.to_v4().to_bytes();
      status = ares_parse_ptr_reply(msg.data(), length(msg), b.data(), static_cast<int>(b.size()),
                                    AF_INET, &raw);
    } else {
      auto b = addr.to_v6().to_bytes();
      status = ares_parse_ptr_reply(msg.data(), length(msg), b.data(), static_cast<int>(b.size()),
                                    AF_INET6, &raw);
    }
    HostentPtr owned(raw);
    if (status != ARES_SUCCESS) {
      return parse_failure<std::string>(status, msg);
    }
    // c-ares puts one PTR target in h_name and every target in h_aliases.
    Answer<std::string> a;
    auto add = [&a](const char* name) {
      if (name != nullptr &&
          std::find(a.records.begin(), a.records.end(), name) == a.records.end()) {
        a.records.emplace_back(name);
      }
    };
    for (char** alias = raw->h_aliases; alias != nullptr && *alias != nullptr; ++alias) {
      add(*alias);
    }
    add(raw->h_name);
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
  }
};

// c-ares 1.18 has no TLSA parser, so the raw answer section is read by wire.cpp.
struct TlsaParser {
  using Record = TlsaRecord;
  static constexpr RecordType kType = RecordType::Tlsa;

  Answer<TlsaRecord> operator()(std::span<const unsigned char> msg) const {
    std::optional<std::vector<TlsaRecord>> records = tlsa_records(msg);
    Answer<TlsaRecord> a;
    if (!records) {
      a.ec = Error::BadResponse;
      return a;
    }
    if (records->empty()) {
      // Only a CNAME chain came back, as c-ares' own parsers report with ARES_ENODATA.
      return failure<TlsaRecord>(ARES_ENODATA, msg);
    }
    a.records = std::move(*records);
    a.ttl = answer_ttl(msg).value_or(0);
    return a;
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
      Answer<Record> a = status == ARES_SUCCESS ? parser_(msg) : failure<Record>(status, msg);
      if (!a.ec && a.records.empty()) {
        a.ec = Error::NoData;
      }
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
