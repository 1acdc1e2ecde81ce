// Applications using libguest_scale (guest_scale_ipc.proto): each
// subscribes, is told the online CPUs and every scale operation; those that
// ask to choose queue up, and the first of them is asked which CPU to give
// up on a scale down. Who may subscribe is decided from the peer's
// credentials (root, ALLOWED_UIDS, ALLOWED_GROUPS); non-root users are held
// to MAX_SUBSCRIBERS_PER_UID connections and everyone to MAX_SUBSCRIBERS; a
// connection that has not subscribed within kSubscribeDeadline is closed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon_config.h"
#include "gsdk/event_loop.h"
#include "gsdk/ipc_server.h"
#include "gsdk/peer_access.h"
#include "guest_scale_ipc.pb.h"
#include "scale_layer.h"

namespace gsdk::scale {

namespace ipc = ::gsdk::guest_scale::ipc;

inline constexpr Millis kSubscribeDeadline{10000};

class Subscribers {
public:
    struct Callbacks {
        // The chooser answered request `request_id` (cpu < 0: no preference).
        std::function<void(uint64_t request_id, int cpu)> answered;
        // The chooser asked for request `request_id` went away.
        std::function<void(uint64_t request_id)> chooser_gone;
    };

    Subscribers(EventLoop& loop, const DaemonConfig& config, Callbacks callbacks);
    ~Subscribers();

    int listen(const std::string& path);
    void shutdown();
    // The online CPUs new subscribers are told.
    void set_online(std::vector<unsigned> online) { online_ = std::move(online); }
    void scale_done(scalewire::Direction direction, unsigned cpu, const std::vector<unsigned>& online,
                    const std::string& chosen_by);
    // Asks the chooser, if there is one; *who names it (for logs).
    bool ask_chooser(uint64_t request_id, const std::vector<unsigned>& online, unsigned default_cpu, Millis timeout,
                     std::string* who);
    bool has_chooser() const { return !choosers_.empty(); }
    // The question is settled (answered, timed out): a late answer is ignored.
    void forget_question() { asked_.reset(); }
    std::size_t subscribed() const;

private:
    struct Peer {
        PeerCredentials cred;
        Clock::time_point deadline;
        bool subscribed = false;
        bool wants_choice = false;
    };
    struct Question {
        uint64_t request_id;
        uint64_t peer;
    };

    void accepted(IpcPeer& peer);
    void message(IpcPeer& peer, std::string_view bytes);
    void closed(IpcPeer& peer);
    void subscribe(IpcPeer& peer, Peer& p, const ipc::Subscribe& s);
    void answer(IpcPeer& peer, const ipc::ChoiceAnswer& a);
    void refuse_and_close(IpcPeer& peer, int error, const std::string& reason);
    void sweep();
    void send(uint64_t id, const ipc::DaemonMessage& m);
    std::string describe(uint64_t id) const;

    const DaemonConfig& config_;
    PeerAccessPolicy policy_;
    Callbacks callbacks_;
    IpcServer server_;
    Timer sweeper_;
    std::map<uint64_t, Peer> peers_;
    std::map<uid_t, int> per_uid_;   // non-root connections
    std::deque<uint64_t> choosers_;  // front: the one asked
    std::optional<Question> asked_;
    std::vector<unsigned> online_;
};

}  // namespace gsdk::scale
