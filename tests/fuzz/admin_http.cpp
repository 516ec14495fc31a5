// Fuzz target: the admin port's HTTP handling (llhttp plus HttpConnection: limits,
// keep-alive, pipelining, holding requests back while an answer is unsent). The input
// is what one client sends: the first byte says how large its writes are and whether
// it reads its answers; the rest arrives over a socket pair into a real
// HttpConnection on a real event loop, driven without waiting.
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "admin/http_connection.hpp"
#include "cluster/cluster_view.hpp"
#include "fuzz_check.hpp"
#include "net/loop.hpp"

using namespace slotgate;

namespace {

admin::AdminHooks& hooks() {
  static admin::AdminHooks h = [] {
    admin::AdminHooks init;
    auto r = cluster::ClusterView::from_nodes(
        "1111111111111111111111111111111111111111 10.0.0.1:6379@16379 myself,master - 0 0 1 "
        "connected 0-16383\n",
        1);
    auto view = std::get<cluster::ClusterView::Ptr>(r);
    init.current_view = [view] { return view; };
    return init;
  }();
  return h;
}

// Reads (and drops) whatever the server sent; false once the server closed.
bool drain_peer(int fd) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static net::Loop loop;
  const size_t write_size = 1 + (data[0] & 0x3f) * 16;
  const bool client_reads = (data[0] & 0x40) == 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  int sv[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  const int small = 4096;  // a small socket buffer, so unread answers back up quickly
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);

  bool finished = false;
  auto conn = std::make_unique<admin::HttpConnection>(
      loop, hooks(), [&finished](admin::HttpConnection*) { finished = true; });
  FUZZ_CHECK(uv_tcp_open(conn->stream().raw(), sv[0]) == 0);
  conn->start();

  int idle_rounds = 0;  // rounds in which nothing could be sent
  for (int round = 0; round < 400 && !finished && idle_rounds < 4; ++round) {
    ssize_t n = 0;
    if (!input.empty()) {
      n = ::send(sv[1], input.data(), std::min(write_size, input.size()),
                 MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) input.remove_prefix(static_cast<size_t>(n));
    }
    idle_rounds = n > 0 ? 0 : idle_rounds + 1;
    uv_run(loop.raw(), UV_RUN_NOWAIT);
    if (client_reads && !drain_peer(sv[1])) break;
  }
  // Unread output is bounded by one answer plus the socket buffer.
  FUZZ_CHECK(conn->stream().pending_output() < (1u << 20));
  conn.reset();
  ::close(sv[1]);
  uv_run(loop.raw(), UV_RUN_NOWAIT);  // close callbacks free the stream's state
  return 0;
}
