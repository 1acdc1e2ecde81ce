// One connection on the legacy stream socket: a binary that bundles the
// original libguest_heartbeat_api.so.3. Its 228-byte frames are turned into
// the protobuf messages a modern client sends, over a socketpair whose other
// end the ApplicationRegistry adopts as an ordinary peer with this client's
// credentials; so the same registry, quotas, hang and death detection, votes
// and merge apply (docs/decisions/0019-legacy-heartbeat-socket.md).
//
// The original library's quirks are met here: every frame goes out in one
// write (queued whole while the socket is full, the connection dropped past a
// bound), the parser state is this connection's own, a refused INIT is
// answered only after a delay (the library resends at once), challenges and
// invocation ids stay within 31 bits, FINAL deregisters while the connection
// stays, and a repeated INIT registers afresh.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gsdk/event_loop.h"
#include "gsdk/unix_socket.h"
#include "heartbeat_ipc.pb.h"
#include "legacy_heartbeat_frame.h"

namespace gsdk::heartbeat {

// How long a refused INIT waits for its answer (the library resends at once).
inline constexpr Millis kLegacyRefusalDelay{1000};
// Frames queued for a client that does not read before it is dropped.
inline constexpr std::size_t kLegacyMaxQueuedFrames = 64;

class LegacyClientBridge {
public:
    struct Hooks {
        // Hands a socketpair end to the registry as a client with these
        // credentials; the peer id, or 0 if the registry closed it at once.
        std::function<uint64_t(int fd, const PeerCredentials& cred)> adopt;
        // The connection is over (both ends closed); called once, and the
        // owner frees the bridge later (never from inside this call).
        std::function<void(LegacyClientBridge&)> finished;
    };

    LegacyClientBridge(EventLoop& loop, int fd, PeerCredentials cred, Hooks hooks);
    ~LegacyClientBridge();
    LegacyClientBridge(const LegacyClientBridge&) = delete;
    LegacyClientBridge& operator=(const LegacyClientBridge&) = delete;

    // Connects to the registry; false (and finished) if it would not take us.
    bool start();
    // Bytes from the client, as read from its socket (also the fuzz entry).
    void received(const char* data, std::size_t len);
    const PeerCredentials& credentials() const { return cred_; }
    bool done() const { return done_; }

private:
    enum class Phase {
        Unregistered,  // the registry's peer is open, no INIT yet
        Registering,   // Register sent, waiting for its result
        Registered,
        Leaving,   // Deregister sent, waiting for the registry to close its peer
        Refused,   // the refusal is held back for kLegacyRefusalDelay
        Detached,  // no registry peer (after FINAL or a refusal): the next INIT opens one
    };

    bool open_registry_peer();
    void close_registry_peer();
    void client_readable();
    void client_writable();
    void registry_readable();
    void registry_closed();
    void on_message(const legacy::Message& message);
    void on_init(const legacy::Init& init);
    void on_final(const legacy::Final& final_msg);
    void on_daemon_message(const ipc::DaemonMessage& message);
    void send_register(const legacy::Init& init);
    void send_to_registry(const ipc::ClientMessage& message);
    void send_frame(const legacy::Message& message);
    void refusal_due();
    // Ends the connection; `why` (if any) is logged, rate-limited, naming the peer.
    void finish(const std::string& why);

    EventLoop& loop_;
    int fd_;
    PeerCredentials cred_;
    Hooks hooks_;
    legacy::FrameReader reader_;
    std::unique_ptr<FdWatch> read_watch_;
    std::unique_ptr<FdWatch> write_watch_;
    std::deque<legacy::Frame> out_;
    bool close_when_flushed_ = false;
    uint32_t sequence_ = 0;

    int registry_fd_ = -1;
    std::unique_ptr<FdWatch> registry_watch_;
    Phase phase_ = Phase::Detached;
    std::string name_;  // as registered (for log lines)
    std::optional<legacy::Init> pending_init_;
    bool final_after_register_ = false;
    int refusal_error_ = 0;
    Timer refusal_timer_;
    // The last four challenges sent (legacy value, the registry's id): an
    // answer to any of them counts, as with the original daemon.
    struct SentChallenge {
        uint32_t legacy = 0;
        uint64_t id = 0;
    };
    std::array<SentChallenge, 4> challenges_{};
    std::size_t next_challenge_slot_ = 0;
    bool done_ = false;
};

}  // namespace gsdk::heartbeat
