// One subscription to guest-scaled, driven by gs_client_process() from the
// application's own loop: Subscribe and its answer, scale notifications, and
// the chooser's questions.
#include "client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "guest_scale_ipc.pb.h"

namespace ipc = gsdk::guest_scale::ipc;
using namespace std::chrono_literals;
using gsdk::scale::client::Clock;

namespace {

// A daemon that accepts a connection but never answers Subscribe is as good as gone.
constexpr auto kSubscribedTimeout = 5s;

// At most GS_MAX_CPUS of what the daemon lists, so a bad peer cannot make us grow.
std::vector<unsigned> cpu_list(const google::protobuf::RepeatedField<uint32_t>& cpus) {
    std::vector<unsigned> out(cpus.begin(), cpus.begin() + std::min(cpus.size(), GS_MAX_CPUS));
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

gs_client::gs_client(const gs_callbacks& cb, void* user_data, std::string path, bool chooser)
    : LibraryClient(gsdk::IpcClient::Options{std::move(path)},
                    gsdk::IpcClient::Callbacks{
                        [this] { subscribe(); },
                        [this](const char* data, std::size_t len, int) { handle_datagram(data, len); },
                        [this](const std::string& reason) { lost(reason); },
                        nullptr,
                        [this](int error) { return refused_by_mode(error); },
                    }),
      callbacks(cb), user(user_data), wants_choice_(chooser) {}

int gs_client::open_and_connect() {
    if (int rc = ipc_.open(); rc < 0) return rc;
    std::lock_guard lock(mu_);
    if (int rc = ipc_.connect_now(); rc < 0 && !refused_by_mode(rc)) ipc_.connect_later();
    arm_timer();
    return 0;
}

// The socket's mode turned us away before the daemon could: as final as the
// daemon's own refusal, and said the same way.
bool gs_client::refused_by_mode(int error) {
    if (error != -EACCES && error != -EPERM) return false;
    Happening h;
    h.error = -EACCES;
    h.text = ipc_.refused_by_mode_text("guest-scaled", error);
    ready_.push_back(std::move(h));
    link_ = Link::Refused;
    return true;
}

void gs_client::subscribe() {
    ipc::ClientMessage msg;
    msg.mutable_subscribe()->set_chooser(wants_choice_);
    ipc_.send(msg.SerializeAsString());
    link_ = Link::Awaiting;
    subscribed_deadline_ = Clock::now() + kSubscribedTimeout;
}

void gs_client::lost(const std::string& reason) {
    if (link_ == Link::Refused) return;
    bool was_up = link_ == Link::Up;
    link_ = Link::Connecting;
    chooser_ = false;
    question_.reset();  // the daemon takes its default
    if (was_up) {
        Happening h;
        h.text = "guest-scaled went away: " + reason;
        ready_.push_back(std::move(h));
        ipc_.reset_backoff();
    }
    ipc_.connect_later();
}

void gs_client::handle_datagram(const char* data, std::size_t len) {
    ipc::DaemonMessage msg;
    if (!msg.ParseFromArray(data, static_cast<int>(len))) return;  // nothing the daemon sends; ignored
    Happening h;
    switch (msg.body_case()) {
    case ipc::DaemonMessage::kSubscribed: {
        const auto& s = msg.subscribed();
        if (link_ != Link::Awaiting) return;
        h.kind = Happening::Kind::Link;
        h.flag = s.accepted();
        if (s.accepted()) {
            link_ = Link::Up;
            chooser_ = s.chooser();
            online_ = cpu_list(s.online_cpus());
            h.chooser = chooser_;
            h.online = online_;
            ipc_.reset_backoff();
        } else {
            h.error = -(s.error() > 0 ? s.error() : EACCES);
            h.text = s.reason().empty() ? "refused by guest-scaled" : s.reason();
            ipc_.disconnect();
            if (h.error == -EACCES) {
                link_ = Link::Refused;
            } else {
                link_ = Link::Connecting;
                ipc_.connect_later();  // a quota may free up; the back-off keeps growing
            }
        }
        break;
    }
    case ipc::DaemonMessage::kScaleDone: {
        const auto& d = msg.scale_done();
        if (link_ != Link::Up) return;
        if (d.direction() != ipc::UP && d.direction() != ipc::DOWN) return;
        h.kind = Happening::Kind::Scaled;
        h.direction = d.direction() == ipc::UP ? GS_SCALE_UP : GS_SCALE_DOWN;
        h.cpu = d.cpu();
        online_ = cpu_list(d.online_cpus());
        h.online = online_;
        h.text = d.chosen_by().substr(0, 64);
        break;
    }
    case ipc::DaemonMessage::kChooseCpu: {
        const auto& q = msg.choose_cpu();
        if (link_ != Link::Up || !chooser_) return;
        // The daemon never waits longer than the host's 9 s; a bigger number is not its.
        unsigned timeout = std::min<uint32_t>(q.timeout_ms(), 60000);
        question_ = {q.request_id(), Clock::now() + std::chrono::milliseconds(timeout)};
        h.kind = Happening::Kind::Choose;
        h.request_id = q.request_id();
        h.online = cpu_list(q.online_cpus());
        h.cpu = q.default_cpu();
        h.timeout_ms = timeout;
        break;
    }
    case ipc::DaemonMessage::kChooserChanged:
        if (link_ != Link::Up) return;
        chooser_ = msg.chooser_changed().chooser();
        h.kind = Happening::Kind::ChooserChanged;
        h.flag = chooser_;
        break;
    case ipc::DaemonMessage::BODY_NOT_SET:
        return;
    }
    ready_.push_back(std::move(h));
}

int gs_client::answer_choice(uint64_t request_id, int cpu) {
    std::lock_guard lock(mu_);
    if (link_ != Link::Up) return -ENOTCONN;
    expire(Clock::now());
    if (!question_ || question_->first != request_id) return -ENOENT;
    ipc::ClientMessage msg;
    auto* a = msg.mutable_choice_answer();
    a->set_request_id(request_id);
    a->set_cpu(cpu);
    int rc = ipc_.send(msg.SerializeAsString());
    if (rc == 0) question_.reset();
    arm_timer();
    return rc;
}

int gs_client::online_cpus(unsigned* cpus, std::size_t max) {
    std::lock_guard lock(mu_);
    if (link_ != Link::Up) return -ENOTCONN;
    std::copy_n(online_.begin(), std::min(max, online_.size()), cpus);
    return static_cast<int>(online_.size());
}

bool gs_client::is_chooser() {
    std::lock_guard lock(mu_);
    return link_ == Link::Up && chooser_;
}

bool gs_client::connected() {
    std::lock_guard lock(mu_);
    return link_ == Link::Up;
}

void gs_client::expire(TimePoint now) {
    if (link_ == Link::Awaiting && now >= subscribed_deadline_) {
        ipc_.disconnect();
        lost("no answer to Subscribe from guest-scaled");
    }
    if (question_ && now >= question_->second) question_.reset();
}

void gs_client::consider_deadlines(Deadlines& d) const {
    if (link_ == Link::Awaiting) d.consider(subscribed_deadline_);
    if (question_) d.consider(question_->second);
}

// Runs with no lock held (CallbackDispatch), so callbacks may call back in.
void gs_client::deliver(Happening& h) {
    switch (h.kind) {
    case Happening::Kind::Link:
        if (callbacks.connected)
            callbacks.connected(this, h.flag, h.error, h.chooser, h.online.data(), h.online.size(), h.text.c_str(),
                                user);
        return;
    case Happening::Kind::Scaled:
        if (callbacks.scaled)
            callbacks.scaled(this, h.direction, h.cpu, h.online.data(), h.online.size(), h.text.c_str(), user);
        return;
    case Happening::Kind::Choose:
        if (callbacks.choose_cpu)
            callbacks.choose_cpu(this, h.request_id, h.online.data(), h.online.size(), h.cpu, h.timeout_ms, user);
        return;
    case Happening::Kind::ChooserChanged:
        if (callbacks.chooser_changed) callbacks.chooser_changed(this, h.flag, user);
        return;
    }
}
