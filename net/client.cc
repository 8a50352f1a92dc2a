// net/client.cc: the attrib client library over a POSIX TCP socket (see the header);
// the bytes go through net/client_tls.h (plain send/recv, or OpenSSL).
//
// The socket is non-blocking; every wait is a poll() bounded by options_.timeout, so
// no call can hang forever. Received bytes go into a word-aligned buffer and frames
// are cut out of it with InspectFrame(), so a reply is decoded from an aligned copy
// of exactly its own words.
//
// Thread-safety: a Client is used by one thread at a time.
#include "net/client.h"

#include "net/wire_codes.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/not_primary.h"
#include "kj/exception.h"
#include "net/client_tls.h"
#include "net/frame.h"

namespace attrib::net {
using internal::IoResult;
using internal::PollUntil;

namespace {

// Requests are buffered and written in chunks of about this size.
constexpr size_t kSendChunkBytes = 64 << 10;
// The input buffer always has at least this much free space before a read.
constexpr size_t kReadChunkBytes = 64 << 10;

absl::string_view View(capnp::Text::Reader text) {
  return absl::string_view(text.begin(), text.size());
}


absl::Status ConnectionError(absl::StatusCode code, absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kConnectionErrorPayload, absl::Cord("1"));
  return status;
}

// Connects one resolved address, waiting until `deadline`. Returns the fd, or the
// error text (strerror) / DeadlineExceeded.
absl::StatusOr<int> ConnectOne(const addrinfo& ai, absl::string_view address,
                               absl::Time deadline, absl::Duration timeout) {
  const int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          ai.ai_protocol);
  if (fd < 0) {
    return ConnectionError(absl::StatusCode::kUnavailable,
                           absl::StrCat("connect to ", address, ": ", std::strerror(errno)));
  }
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS && errno != EINTR) {
    const int err = errno;
    ::close(fd);
    return ConnectionError(absl::StatusCode::kUnavailable,
                           absl::StrCat("connect to ", address, ": ", std::strerror(err)));
  }
  short revents = 0;
  const int ready = PollUntil(fd, POLLOUT, deadline, &revents);
  if (ready <= 0) {
    const int err = errno;
    ::close(fd);
    if (ready == 0) {
      return ConnectionError(absl::StatusCode::kDeadlineExceeded,
                             absl::StrCat("connect to ", address, ": no answer within ",
                                          absl::FormatDuration(timeout)));
    }
    return ConnectionError(absl::StatusCode::kUnavailable,
                           absl::StrCat("connect to ", address, ": ", std::strerror(err)));
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    ::close(fd);
    return ConnectionError(absl::StatusCode::kUnavailable,
                           absl::StrCat("connect to ", address, ": ", std::strerror(err)));
  }
  return fd;
}

absl::StatusOr<int> ConnectSocket(const HostPort& hp, absl::string_view address,
                                  absl::Duration timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &result);
  if (rc != 0) {
    const char* why = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    return ConnectionError(absl::StatusCode::kUnavailable,
                           absl::StrCat("connect to ", address, ": cannot resolve '",
                                        hp.host, "': ", why));
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int> fd = ConnectionError(
      absl::StatusCode::kUnavailable, absl::StrCat("connect to ", address, ": no address"));
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    fd = ConnectOne(*ai, address, deadline, timeout);
    if (fd.ok() || absl::IsDeadlineExceeded(fd.status())) break;
  }
  ::freeaddrinfo(result);
  if (!fd.ok()) return fd.status();
  const int one = 1;
  // Requests are small and latency matters more than packet count: no Nagle.
  ::setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

bool IsConnectionError(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kConnectionErrorPayload).has_value();
}

absl::StatusOr<HostPort> SplitHostPort(absl::string_view address) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "address: expected host:port (IPv6 as [::1]:7411), got '", address, "'"));
  };
  HostPort hp;
  absl::string_view port;
  if (!address.empty() && address[0] == '[') {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return bad();
    }
    hp.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return bad();
    hp.host = std::string(address.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return bad();  // Unbracketed IPv6.
    port = address.substr(colon + 1);
  }
  uint32_t port_number = 0;
  if (hp.host.empty() || port.empty() ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &port_number) || port_number == 0 || port_number > 65535) {
    return bad();
  }
  hp.port = std::string(port);
  return hp;
}

// ------------------------------------------------------------------------ Reply

Reply::Reply(kj::Array<capnp::word> words, size_t max_frame_bytes) : words_(std::move(words)) {
  (void)max_frame_bytes;  // InspectFrame() already held the frame to it.
  capnp::ReaderOptions options;
  // Generous: replies come from the server; 4x still stops a pointer loop.
  options.traversalLimitInWords = 4 * words_.size() + 64;
  options.nestingLimit = 64;
  reader_ = std::make_unique<capnp::FlatArrayMessageReader>(words_.asPtr(), options);
}

absl::Status ReplyStatus(wire::Response::Reader response) {
  if (!response.isError()) return absl::OkStatus();
  return ErrorStatus(response.getError());
}

absl::Status ErrorStatus(wire::Error::Reader error) {
  if (error.getCode() == wire::ErrorCode::NOT_PRIMARY) {
    return NotPrimaryError(View(error.getMessage()), {std::string(View(error.getPrimary())), ""});
  }
  absl::Status status(FromWireCode(error.getCode()), View(error.getMessage()));
  if (status.code() == absl::StatusCode::kAlreadyExists && error.getCurrentAffiliate() != 0) {
    status.SetPayload(engine::kCurrentAffiliatePayload,
                      absl::Cord(absl::StrCat(error.getCurrentAffiliate())));
  }
  return status;
}

// ----------------------------------------------------------------------- Client

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(absl::string_view address,
                                                        const ClientOptions& options) {
  absl::StatusOr<HostPort> hp = SplitHostPort(address);
  if (!hp.ok()) return hp.status();
  absl::StatusOr<int> fd = ConnectSocket(*hp, address, options.timeout);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<Client> client(new Client(*fd, std::string(address), options));
  if (options.tls || !options.tls_ca_file.empty()) {
    absl::StatusOr<std::unique_ptr<internal::TlsChannel>> tls =
        internal::TlsChannel::Handshake(*fd, hp->host, address, options,
                                        absl::Now() + options.timeout);
    if (!tls.ok()) {
      if (absl::IsInvalidArgument(tls.status())) return tls.status();  // --tls_ca.
      return ConnectionError(tls.status().code(), tls.status().message());
    }
    client->tls_ = *std::move(tls);
  }
  if (!options.auth_token.empty()) {
    absl::StatusOr<Reply> auth = client->Auth(options.auth_token);
    if (!auth.ok()) return auth.status();
  }
  return client;
}

Client::Client(int fd, std::string address, const ClientOptions& options)
    : fd_(fd), address_(std::move(address)), options_(options) {
  in_.resize(kReadChunkBytes / kWordBytes);
}

Client::~Client() {
  tls_.reset();  // Its close_notify goes out before the socket closes.
  ::close(fd_);
}

IoResult Client::WriteSome(const char* data, size_t size) {
  return tls_ ? tls_->Write(data, size) : internal::PlainWrite(fd_, data, size);
}

IoResult Client::ReadSomeBytes(char* data, size_t size) {
  return tls_ ? tls_->Read(data, size) : internal::PlainRead(fd_, data, size);
}

absl::Status Client::Fail(absl::Status status) {
  if (!IsConnectionError(status)) {
    status.SetPayload(kConnectionErrorPayload, absl::Cord("1"));
  }
  broken_ = status;
  return status;
}

absl::Status Client::Send(capnp::MessageBuilder& request) {
  if (!broken_.ok()) return broken_;
  const kj::Array<capnp::word> frame = EncodeFrame(request);
  const kj::ArrayPtr<const kj::byte> bytes = frame.asBytes();
  out_.append(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  ++outstanding_;
  if (out_.size() > kSendChunkBytes) return Flush();
  return absl::OkStatus();
}

absl::Status Client::SendRaw(absl::string_view bytes) {
  if (!broken_.ok()) return broken_;
  out_.append(bytes.data(), bytes.size());
  return Flush();
}

absl::Status Client::Flush() {
  if (!broken_.ok()) return broken_;
  if (out_.empty()) return absl::OkStatus();
  absl::Status status = WriteAll(out_.data(), out_.size());
  out_.clear();
  return status;
}

absl::Status Client::WriteAll(const char* data, size_t size) {
  absl::Time deadline = absl::Now() + options_.timeout;
  while (size > 0) {
    const IoResult r = WriteSome(data, size);
    if (r.kind == IoResult::kDone) {
      data += r.bytes;
      size -= r.bytes;
      deadline = absl::Now() + options_.timeout;  // The timeout bounds a stall.
      continue;
    }
    if (r.kind == IoResult::kClosed) {
      return Fail(ConnectionError(absl::StatusCode::kUnavailable,
                                  "server closed the connection"));
    }
    if (r.kind == IoResult::kError) {
      return Fail(ConnectionError(absl::StatusCode::kUnavailable,
                                  absl::StrCat("write to ", address_, ": ", r.error)));
    }
    // Also read: the server may be waiting for us to take its replies.
    short revents = 0;
    const int ready = PollUntil(fd_, POLLOUT | POLLIN, deadline, &revents);
    if (ready == 0) {
      return Fail(ConnectionError(
          absl::StatusCode::kDeadlineExceeded,
          absl::StrCat("write to ", address_, ": the server took no data for ",
                       absl::FormatDuration(options_.timeout))));
    }
    if (ready < 0) {
      return Fail(ConnectionError(absl::StatusCode::kUnavailable,
                                  absl::StrCat("poll: ", std::strerror(errno))));
    }
    if (revents & (POLLIN | POLLHUP)) {
      if (absl::Status s = ReadSome(/*wait=*/false); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Client::ReadSome(bool wait) {
  if (in_begin_ == in_bytes_) {
    in_begin_ = in_bytes_ = 0;
  } else if (in_begin_ > 0 && in_.size() * kWordBytes - in_bytes_ < kReadChunkBytes) {
    // in_begin_ is word-aligned (frames are whole words): the move keeps alignment.
    char* base = reinterpret_cast<char*>(in_.data());
    std::memmove(base, base + in_begin_, in_bytes_ - in_begin_);
    in_bytes_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_.size() * kWordBytes - in_bytes_ < kReadChunkBytes) {
    in_.resize(std::max(in_.size() * 2, (in_bytes_ + kReadChunkBytes) / kWordBytes + 1));
  }
  const absl::Time deadline = absl::Now() + options_.timeout;
  for (;;) {
    char* end = reinterpret_cast<char*>(in_.data()) + in_bytes_;
    const IoResult r = ReadSomeBytes(end, in_.size() * kWordBytes - in_bytes_);
    if (r.kind == IoResult::kDone) {
      in_bytes_ += r.bytes;
      return absl::OkStatus();
    }
    if (r.kind == IoResult::kClosed) {
      return Fail(ConnectionError(absl::StatusCode::kUnavailable,
                                  "server closed the connection"));
    }
    if (r.kind == IoResult::kError) {
      return Fail(ConnectionError(absl::StatusCode::kUnavailable,
                                  absl::StrCat("read from ", address_, ": ", r.error)));
    }
    if (!wait) return absl::OkStatus();
    short revents = 0;
    // TLS may need to write to read (a key update): wait for what it asked.
    const short events = r.kind == IoResult::kWantWrite ? POLLOUT : POLLIN;
    const int ready = PollUntil(fd_, events, deadline, &revents);
    if (ready == 0) {
      return Fail(ConnectionError(
          absl::StatusCode::kDeadlineExceeded,
          absl::StrCat("read from ", address_, ": no reply within ",
                       absl::FormatDuration(options_.timeout))));
    }
    if (ready < 0) {
      return Fail(ConnectionError(absl::StatusCode::kUnavailable,
                                  absl::StrCat("poll: ", std::strerror(errno))));
    }
  }
}

absl::StatusOr<Reply> Client::Receive() {
  FrameLimits limits;
  limits.max_frame_bytes = options_.max_frame_bytes;
  bool flushed = out_.empty();
  for (;;) {
    // A reply already buffered is returned even after a connection error: it may be
    // the server's explanation of why it closed.
    const uint8_t* begin = reinterpret_cast<const uint8_t*>(in_.data()) + in_begin_;
    const FrameInfo info = InspectFrame(begin, in_bytes_ - in_begin_, limits);
    if (info.kind == FrameInfo::Kind::kInvalid) {
      return Fail(ConnectionError(absl::StatusCode::kInternal,
                                  absl::StrCat("malformed reply from ", address_, ": ",
                                               info.error)));
    }
    if (info.kind == FrameInfo::Kind::kComplete) {
      auto words = kj::heapArray<capnp::word>(info.frame_bytes / kWordBytes);
      std::memcpy(words.begin(), begin, info.frame_bytes);
      in_begin_ += info.frame_bytes;
      if (outstanding_ > 0) --outstanding_;
      try {
        Reply reply(std::move(words), options_.max_frame_bytes);
        (void)reply.get().which();  // Checks the root pointer and struct.
        return reply;
      } catch (const kj::Exception& e) {
        return Fail(ConnectionError(absl::StatusCode::kInternal,
                                    absl::StrCat("malformed reply from ", address_, ": ",
                                                 e.getDescription().cStr())));
      }
    }
    if (!broken_.ok()) return broken_;
    // On failure both set broken_; the next turn still returns a reply that arrived.
    if (!flushed) {
      flushed = true;
      (void)Flush();
      continue;
    }
    (void)ReadSome(/*wait=*/true);
  }
}

absl::StatusOr<Reply> Client::Call(capnp::MessageBuilder& request) {
  absl::StatusOr<Reply> reply = CallHere(request);
  if (reply.ok() || !options_.follow_not_primary) return reply;
  const std::optional<PrimaryAddresses> primary = GetNotPrimary(reply.status());
  if (!primary.has_value() || primary->native.empty() || primary->native == address_) {
    return reply;
  }
  if (primary_ == nullptr || primary_address_ != primary->native) {
    ClientOptions options = options_;
    options.follow_not_primary = false;  // One hop: a second not_primary is returned.
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(primary->native, options);
    if (!c.ok()) {
      return absl::Status(c.status().code(),
                          absl::StrCat("following not_primary from ", address_, " to ",
                                       primary->native, ": ", c.status().message()));
    }
    primary_ = *std::move(c);
    primary_address_ = primary->native;
  }
  if (options_.on_follow) options_.on_follow(address_, primary_address_);
  reply = primary_->Call(request);
  if (!reply.ok() && IsConnectionError(reply.status())) primary_.reset();  // Redial next time.
  return reply;
}

absl::StatusOr<Reply> Client::CallHere(capnp::MessageBuilder& request) {
  if (!broken_.ok()) return broken_;
  if (outstanding_ != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Call() with ", outstanding_, " pipelined replies not received yet"));
  }
  const uint64_t id = request.getRoot<wire::Request>().getId();
  if (absl::Status s = Send(request); !s.ok()) return s;
  absl::StatusOr<Reply> reply = Receive();
  if (!reply.ok()) return reply.status();
  const wire::Response::Reader response = reply->get();
  if (response.getId() != id) {
    // Id 0: the server could not decode the request, or ends the connection
    // (shutdown, a limit); it closes the connection after it: a connection error
    // whose message says why.
    if (response.getId() == 0 && response.isError()) return Fail(ReplyStatus(response));
    return Fail(ConnectionError(absl::StatusCode::kInternal,
                                absl::StrCat("reply id ", response.getId(),
                                             " does not match request id ", id)));
  }
  if (absl::Status s = ReplyStatus(response); !s.ok()) return s;
  return reply;
}

}  // namespace attrib::net
