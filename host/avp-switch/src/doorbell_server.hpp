// The ivshmem server for one port: QEMU's `-device ivshmem-doorbell`
// connects to a UNIX socket and is sent, as the ivshmem client-server
// protocol says (each message one little-endian int64, some with a
// descriptor): protocol version 0, its peer id, -1 with the region's
// descriptor, then its own id once per vector, each with an eventfd. The
// switch writes those eventfds to raise MSI-X vectors in the guest. The
// switch is a peer too (id 0): its vector 0 wakes a sleeping forwarding
// thread, its vector 1 has the guest's control requests served at once.
//
// One QEMU per port at a time; a second is refused. The conversation is
// a handful of small messages that a fresh socket buffer takes at once, so
// the loop never waits on QEMU; after that the socket only tells us when
// QEMU goes away.
#pragma once

#include <gsdk/event_loop.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gsdk/log.h>
#include "acceptor.hpp"
#include "port.hpp"

namespace avpsw {

class DoorbellServer {
public:
    // `passes` reads the forwarding thread's pass counter: eventfds the
    // datapath may still hold are closed only once it has moved on.
    // `ctrl_rung` runs when the guest rings for its control requests; the
    // watch then rests until rearm_ctrl_ring(), so a guest that rings
    // without end costs the loop one call per rearm, no more.
    DoorbellServer(gsdk::EventLoop& loop, Port& port, std::function<uint64_t()> passes,
                   std::function<void()> ctrl_rung);
    ~DoorbellServer();
    void rearm_ctrl_ring();

    std::string listen();  // error text on failure
    const Port& port() const { return port_; }
    pid_t client_pid() const { return client_pid_; }
    uint64_t connections() const { return connections_; }
    uint64_t refused() const { return refused_; }

private:
    void accepted(int fd);
    bool handshake(int fd, int64_t id, std::vector<int>& eventfds);
    void client_readable();
    void disconnect(const char* why);
    void close_retired();

    gsdk::EventLoop& loop_;
    Port& port_;
    std::function<uint64_t()> passes_;
    int listen_fd_ = -1;
    std::unique_ptr<Acceptor> acceptor_;
    int client_fd_ = -1;
    pid_t client_pid_ = 0;
    int64_t next_id_ = 1;
    std::vector<int> eventfds_;
    std::unique_ptr<gsdk::FdWatch> client_watch_;
    std::function<void()> ctrl_rung_;
    std::unique_ptr<gsdk::FdWatch> ctrl_ring_watch_;
    struct Retired {
        std::vector<int> fds;
        uint64_t after_pass;
    };
    std::vector<Retired> retired_;
    gsdk::Timer reaper_;
    uint64_t connections_ = 0, refused_ = 0;
    gsdk::LogRateLimiter log_;
};

}  // namespace avpsw
