#include "control_service.h"

#include <algorithm>
#include <cstring>

#include "gsdk/log.h"
#include "gsdk/unix_socket.h"
#include "server_group/server_group_relay.h"

namespace vmhost {

namespace {
constexpr std::size_t kDefaultEventLimit = 100;
constexpr std::size_t kMaxEventLimit = 1000;
// Room left for the reply's envelope when filling a datagram.
constexpr std::size_t kReplyBudget = gsdk::kMaxIpcMessage - 1024;

void error_reply(control::Reply* reply, const std::string& message) { reply->mutable_error()->set_message(message); }

// Up to 1024 groups of every VM do not fit a datagram: keep what fits, in
// order (groups, or one group's members), and say that the rest was cut.
void fit_group_list(control::GroupList* list) {
    constexpr std::size_t kPerEntry = 8;  // tag and length of a repeated entry, generously
    std::size_t size = 0;
    int kept = 0;
    for (; kept < list->groups_size(); ++kept) {
        std::size_t group = list->groups(kept).ByteSizeLong() + kPerEntry;
        if (size + group > kReplyBudget) break;
        size += group;
    }
    if (kept == list->groups_size()) return;
    list->set_truncated(true);
    if (kept > 0) {
        list->mutable_groups()->DeleteSubrange(kept, list->groups_size() - kept);
        return;
    }
    // One group alone is too big: keep its first members.
    list->mutable_groups()->DeleteSubrange(1, list->groups_size() - 1);
    auto* members = list->mutable_groups(0)->mutable_members();
    size = list->groups(0).name().size() + 64;
    int fit = 0;
    for (; fit < members->size(); ++fit) {
        std::size_t member = members->Get(fit).ByteSizeLong() + kPerEntry;
        if (size + member > kReplyBudget) break;
        size += member;
    }
    members->DeleteSubrange(fit, members->size() - fit);
}
}  // namespace

ControlService::ControlService(gsdk::EventLoop& loop, EventLog& events, std::vector<std::unique_ptr<SupervisedVm>>& vms)
    : events_(events), vms_(vms),
      server_(loop, gsdk::IpcServer::Callbacks{[](gsdk::IpcPeer& p) {
                                                   LOG_RATELIMITED(gsdk::LogLevel::Debug, "",
                                                                   "control client pid %d connected",
                                                                   p.credentials().pid);
                                               },
                                               [this](gsdk::IpcPeer& p, std::string_view m) { on_message(p, m); },
                                               [](gsdk::IpcPeer& p) {
                                                   LOG_RATELIMITED(gsdk::LogLevel::Debug, "",
                                                                   "control client pid %d left", p.credentials().pid);
                                               }}) {}

int ControlService::listen(const std::string& path) { return server_.listen(path); }

void ControlService::shutdown() { server_.shutdown(); }

SupervisedVm* ControlService::find_vm(const std::string& name) {
    for (auto& vm : vms_)
        if (vm->name() == name) return vm.get();
    return nullptr;
}

void ControlService::send(uint64_t peer_id, const control::Reply& reply) {
    gsdk::IpcPeer* peer = server_.find(peer_id);
    if (!peer) {
        LOG_RATELIMITED(gsdk::LogLevel::Info, "", "control client left before its reply (request %llu)",
                        static_cast<unsigned long long>(reply.request_id()));
        return;
    }
    std::string bytes = reply.SerializeAsString();
    int rc = peer->send(bytes);
    if (rc < 0)
        LOG_RATELIMITED(gsdk::LogLevel::Warning, std::strerror(-rc), "cannot answer control client pid %d: %s",
                        peer->credentials().pid, std::strerror(-rc));
}

void ControlService::on_message(gsdk::IpcPeer& peer, std::string_view bytes) {
    control::Request request;
    control::Reply reply;
    if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        // Any local client can send garbage at will: one line per second.
        LOG_RATELIMITED(gsdk::LogLevel::Warning, "", "control client pid %d sent %zu bytes that are not a Request",
                        peer.credentials().pid, bytes.size());
        error_reply(&reply, "request is not a valid vmhost Request protobuf");
        send(peer.id(), reply);
        return;
    }
    reply.set_request_id(request.request_id());
    switch (request.body_case()) {
    case control::Request::kListVms:
        list_vms(&reply);
        break;
    case control::Request::kGetEvents:
        get_events(request.get_events(), &reply);
        break;
    case control::Request::kTriggerAction:
        trigger(peer.id(), request.request_id(), request.trigger_action());
        return;
    case control::Request::kListGroups:
    case control::Request::kChangeGroup:
        groups(request, &reply);
        break;
    default:
        error_reply(&reply,
                    "request has no body (expected list_vms, trigger_action, get_events, list_groups or change_group)");
        break;
    }
    send(peer.id(), reply);
}

void ControlService::groups(const control::Request& request, control::Reply* reply) {
    if (!groups_) {
        error_reply(reply, "server groups are not available");
        return;
    }
    control::GroupList list;
    std::string error = request.has_list_groups() ? groups_->list_groups(request.list_groups().group(), &list)
                                                  : groups_->change_group(request.change_group(), &list);
    if (!error.empty()) {
        error_reply(reply, error);
        return;
    }
    fit_group_list(&list);
    *reply->mutable_group_list() = std::move(list);
}

void ControlService::list_vms(control::Reply* reply) {
    auto* list = reply->mutable_vm_list();
    for (const auto& vm : vms_) {
        auto* status = list->add_vms();
        vm->fill_status(status);
        if (groups_) groups_->fill_vm_status(vm->name(), status);
    }
    // A guest may register very many applications: keep the reply one datagram.
    while (reply->ByteSizeLong() > kReplyBudget) {
        auto* biggest = list->mutable_vms(0);
        for (auto& s : *list->mutable_vms())
            if (s.applications_size() > biggest->applications_size()) biggest = &s;
        if (biggest->applications_size() == 0) break;
        biggest->mutable_applications()->DeleteSubrange(
            biggest->applications_size() / 2, biggest->applications_size() - biggest->applications_size() / 2);
        biggest->set_applications_truncated(true);
    }
}

void ControlService::get_events(const control::GetEvents& request, control::Reply* reply) {
    if (!request.vm().empty() && !find_vm(request.vm())) {
        error_reply(reply, "unknown VM \"" + request.vm() + "\"");
        return;
    }
    std::size_t limit =
        request.limit() == 0 ? kDefaultEventLimit : std::min<std::size_t>(request.limit(), kMaxEventLimit);
    std::size_t skipped = 0;
    auto found = events_.query(request.vm(), request.since(), limit, &skipped);
    auto* list = reply->mutable_event_list();
    list->set_last_sequence(events_.last_sequence());
    // Newest first until the datagram is full, then restore the order.
    std::size_t size = 0;
    std::size_t taken = 0;
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
        control::Event e;
        e.set_sequence((*it)->sequence);
        e.set_time_ms((*it)->time_ms);
        e.set_vm((*it)->vm);
        e.set_kind((*it)->kind);
        e.set_detail((*it)->detail);
        size += e.ByteSizeLong() + 4;
        if (size > kReplyBudget) break;
        *list->add_events() = std::move(e);
        ++taken;
    }
    std::reverse(list->mutable_events()->begin(), list->mutable_events()->end());
    list->set_skipped(static_cast<uint32_t>(skipped + (found.size() - taken)));
}

void ControlService::trigger(uint64_t peer_id, uint64_t request_id, const control::TriggerAction& request) {
    control::Reply reply;
    reply.set_request_id(request_id);
    SupervisedVm* vm = find_vm(request.vm());
    HostAction action;
    if (!vm) {
        error_reply(&reply, "unknown VM \"" + request.vm() + "\"");
    } else if (!from_string(request.action(), &action)) {
        error_reply(&reply, "unknown action \"" + request.action() +
                                "\" (expected stop, reboot, pause, unpause, suspend, resume, resize, live-migrate "
                                "or cold-migrate)");
    } else {
        vm->trigger(action, [this, peer_id, request_id](const control::ActionResult& result) {
            control::Reply done;
            done.set_request_id(request_id);
            *done.mutable_action_result() = result;
            send(peer_id, done);
        });
        return;
    }
    send(peer_id, reply);
}

}  // namespace vmhost
