#include "guest_scale/vcpu_scaler.h"

#include <cerrno>
#include <cstring>

#include "cpu_set_text.h"
#include "gsdk/log.h"

namespace vmhost {

namespace {

using gsdk::scalewire::Direction;

std::string list_text(const std::set<unsigned>& cpus) {
    return gsdk::scalewire::cpu_array_text(std::vector<unsigned>(cpus.begin(), cpus.end()));
}

}  // namespace

VcpuScaler::VcpuScaler(gsdk::EventLoop& loop, EventLog& events, MessagingHub& hub, const std::vector<VmConfig>& vms)
    : loop_(loop), events_(events), hub_(hub), reaper_(loop, [this] {
          done_qmp_.clear();
          retired_.clear();
      }) {
    for (const auto& vm : vms) {
        VmScale s;
        s.config = &vm;
        s.present = vm.vcpus;
        vms_.emplace(vm.name, std::move(s));
    }
}

VcpuScaler::~VcpuScaler() { stop(); }

void VcpuScaler::stop() {
    for (auto& [name, s] : vms_) {
        s.qmp.reset();
        if (s.pending) give_up(s, "vmhostd is stopping");
    }
}

void VcpuScaler::notify(const VmChange& change) {
    for (auto* o : observers_) o->vm_changed(change);
}

void VcpuScaler::drop_qmp_later(VmScale& s) {
    if (!s.qmp) return;
    done_qmp_.push_back(std::move(s.qmp));
    reaper_.start(gsdk::Millis(0));
}

// A deadline may be what called us: it is freed when the loop turns.
void VcpuScaler::retire(std::unique_ptr<gsdk::Timer> timer) {
    if (!timer) return;
    timer->stop();
    retired_.push_back(std::move(timer));
    reaper_.start(gsdk::Millis(0));
}

void VcpuScaler::scale(const std::string& vm, const std::string& resource, const std::string& direction,
                       Finished finished) {
    auto it = vms_.find(vm);
    if (it == vms_.end()) return finished(nullptr, "unknown VM \"" + vm + "\"");
    if (resource != "cpu") return finished(nullptr, "unknown resource \"" + resource + "\" (only cpu is scaled)");
    if (direction != "up" && direction != "down")
        return finished(nullptr, "unknown direction \"" + direction + "\" (up or down)");
    VmScale& s = it->second;
    if (s.pending || s.qmp) return finished(nullptr, "a scale operation is already in progress for " + vm);
    MessagingPort* port = hub_.port(vm);
    if (!port) return finished(nullptr, vm + " has no messaging socket in the configuration (\"messaging\")");
    if (!port->connected())
        return finished(nullptr, vm + "'s messaging port is not connected (is server-groupd running in the guest?)");
    Direction d = direction == "up" ? Direction::Up : Direction::Down;
    const ExecutorConfig& executor = s.config->executor;
    if (!s.online && executor.type == ExecutorConfig::Type::Qmp) {
        // Under QEMU the vCPUs present at boot may be fewer than the most allowed.
        s.qmp = std::make_unique<QmpCpuHotplug>(
            loop_, executor.qmp_socket, executor.timeout, false,
            [this, &s, d, finished = std::move(finished)](const CpuSlots& slots) {
                drop_qmp_later(s);
                if (!slots.ok) return finished(nullptr, "cannot learn " + s.config->name + "'s vCPUs: " + slots.detail);
                s.present = std::min(slots.present, s.config->vcpus);
                std::set<unsigned> online;
                for (unsigned cpu = 0; cpu < s.present; ++cpu) online.insert(cpu);
                s.online = std::move(online);
                proceed(s, d, finished);
            });
        s.qmp->start();
        return;
    }
    if (!s.online) {
        std::set<unsigned> online;
        for (unsigned cpu = 0; cpu < s.config->vcpus; ++cpu) online.insert(cpu);
        s.online = std::move(online);
    }
    proceed(s, d, std::move(finished));
}

void VcpuScaler::proceed(VmScale& s, Direction direction, Finished finished) {
    const VmConfig& c = *s.config;
    std::size_t online = s.online->size();
    if (direction == Direction::Down) {
        if (online <= c.min_vcpus)
            return finished(nullptr, c.name + " has " + std::to_string(online) +
                                         " vCPUs online, its minimum (min_vcpus " + std::to_string(c.min_vcpus) + ")");
        return send_request(s, direction, 0, false, std::move(finished));
    }
    if (online >= c.vcpus)
        return finished(nullptr, c.name + " has " + std::to_string(online) + " vCPUs online, its maximum (vcpus " +
                                     std::to_string(c.vcpus) + ")");
    unsigned cpu = 0;
    while (s.online->count(cpu)) ++cpu;
    if (cpu < s.present || c.executor.type != ExecutorConfig::Type::Qmp)
        return send_request(s, direction, cpu, false, std::move(finished));
    s.qmp = std::make_unique<QmpCpuHotplug>(
        loop_, c.executor.qmp_socket, c.executor.timeout, true,
        [this, &s, cpu, finished = std::move(finished)](const CpuSlots& slots) {
            drop_qmp_later(s);
            if (!slots.ok) {
                events_.record(s.config->name, "scale", "vCPU hot-plug failed: " + slots.detail,
                               gsdk::LogLevel::Warning);
                return finished(nullptr, "cannot hot-plug a vCPU into " + s.config->name + ": " + slots.detail);
            }
            s.present = slots.present;
            events_.record(s.config->name, "scale", "vCPU " + std::to_string(cpu) + " hot-plugged: " + slots.detail,
                           gsdk::LogLevel::Notice);
            // Still connected? The port may have gone while QEMU answered.
            MessagingPort* port = hub_.port(s.config->name);
            if (!port || !port->connected())
                return finished(nullptr, s.config->name + "'s messaging port went away during the hot-plug");
            send_request(s, Direction::Up, cpu, true, finished);
        });
    s.qmp->start();
}

void VcpuScaler::send_request(VmScale& s, Direction direction, unsigned cpu, bool hot_added, Finished finished) {
    gsdk::scalewire::ScaleRequest request;
    request.direction = direction;
    request.timeout_ms = kScaleTimeoutMs;
    if (direction == Direction::Up) {
        request.online_cpu = cpu;
        request.online_cpus.assign(s.online->begin(), s.online->end());
    }
    Envelope e;
    e.source_addr = gsdk::scalewire::host_address(next_requester_++);
    e.dest_addr = gsdk::scalewire::kGuestAddress;
    e.data = gsdk::scalewire::encode_request(request);
    MessagingPort* port = hub_.port(s.config->name);
    if (int rc = port ? port->send_line(encode_envelope(e)) : -ENOTCONN; rc < 0)
        return finished(nullptr, "cannot write to " + s.config->name + "'s messaging port: " + std::strerror(-rc));
    Pending p;
    p.requester = e.source_addr;
    p.direction = direction;
    p.cpu = cpu;
    p.hot_added = hot_added;
    p.sent = gsdk::Clock::now();
    p.finished = std::move(finished);
    p.deadline = std::make_unique<gsdk::Timer>(loop_, [this, &s] {
        give_up(s, "no answer from the guest within " + std::to_string(kScaleAnswerWait.count() / 1000) + " s");
    });
    p.deadline->start(kScaleAnswerWait);
    s.pending = std::move(p);
    events_.record(s.config->name, "scale",
                   std::string("scale ") + gsdk::scalewire::to_string(direction) + " asked as " + e.source_addr +
                       (direction == Direction::Up ? " (CPU " + std::to_string(cpu) + ")" : ""),
                   gsdk::LogLevel::Info);
}

void VcpuScaler::received(const std::string& vm, Envelope&& envelope) {
    auto it = vms_.find(vm);
    if (it == vms_.end()) return;
    VmScale& s = it->second;
    if (!s.pending || envelope.dest_addr != s.pending->requester) {
        events_.record(vm, "scale", "an answer to " + envelope.dest_addr + ", which is not waiting; dropped",
                       gsdk::LogLevel::Warning, EventOrigin::Guest);
        return;
    }
    auto decoded = gsdk::scalewire::decode_response(envelope.data);
    if (auto* why = std::get_if<std::string>(&decoded)) {
        give_up(s, "the guest's answer is not a scale response: " + *why);
        return;
    }
    auto& response = std::get<gsdk::scalewire::ScaleResponse>(decoded);
    if (response.direction != s.pending->direction) {
        give_up(s, "the guest answered a scale " + std::string(gsdk::scalewire::to_string(*response.direction)) +
                       " to a scale " + gsdk::scalewire::to_string(s.pending->direction));
        return;
    }
    answered(s, response);
}

void VcpuScaler::answered(VmScale& s, const gsdk::scalewire::ScaleResponse& response) {
    Pending p = std::move(*s.pending);
    s.pending.reset();
    retire(std::move(p.deadline));
    const std::string& vm = s.config->name;
    const char* dir = gsdk::scalewire::to_string(p.direction);
    control::ScaleResult r;
    r.set_vm(vm);
    r.set_direction(dir);
    r.set_success(response.success);
    r.set_hot_added(p.hot_added);
    r.set_requester(p.requester);
    r.set_elapsed_ms(
        static_cast<uint32_t>(std::chrono::duration_cast<gsdk::Millis>(gsdk::Clock::now() - p.sent).count()));
    if (!response.success) {
        r.set_guest_refused(true);
        r.set_message(response.err_msg);
        events_.record(vm, "scale", std::string("scale ") + dir + " refused by the guest: " + response.err_msg,
                       gsdk::LogLevel::Warning);
        p.finished(&r, "");
        return;
    }
    std::set<unsigned> expected = *s.online;
    if (p.direction == gsdk::scalewire::Direction::Up)
        expected.insert(response.cpu);
    else
        expected.erase(response.cpu);
    std::set<unsigned> reported(response.online_cpus.begin(), response.online_cpus.end());
    r.set_cpu(response.cpu);
    for (unsigned cpu : response.online_cpus) r.add_online_cpus(cpu);
    for (unsigned cpu : expected) r.add_expected_cpus(cpu);
    bool as_expected = reported == expected && (p.direction != gsdk::scalewire::Direction::Up || response.cpu == p.cpu);
    r.set_as_expected(as_expected);
    std::string detail = std::string("scale ") + dir + ": CPU " + std::to_string(response.cpu) +
                         (p.direction == gsdk::scalewire::Direction::Up ? " online" : " offline") + "; online " +
                         list_text(reported) + " in " + std::to_string(r.elapsed_ms()) + " ms";
    if (!as_expected) {
        detail += "; the host expected " + list_text(expected) +
                  (p.direction == gsdk::scalewire::Direction::Up ? " with CPU " + std::to_string(p.cpu) : "");
        r.set_message("the guest reports online " + list_text(reported) + ", the host expected " + list_text(expected));
    }
    // The guest knows its CPUs: its view replaces ours.
    s.online = std::move(reported);
    events_.record(vm, "scale", detail, as_expected ? gsdk::LogLevel::Notice : gsdk::LogLevel::Warning);
    notify(VmChange{VmChange::Kind::Scaled, vm, dir, detail, static_cast<int>(s.online->size())});
    p.finished(&r, "");
}

void VcpuScaler::give_up(VmScale& s, const std::string& why) {
    if (!s.pending) return;
    Pending p = std::move(*s.pending);
    s.pending.reset();
    retire(std::move(p.deadline));
    control::ScaleResult r;
    r.set_vm(s.config->name);
    r.set_direction(gsdk::scalewire::to_string(p.direction));
    r.set_success(false);
    r.set_hot_added(p.hot_added);
    r.set_requester(p.requester);
    r.set_message(why);
    events_.record(s.config->name, "scale",
                   std::string("scale ") + gsdk::scalewire::to_string(p.direction) + " failed: " + why,
                   gsdk::LogLevel::Warning);
    p.finished(&r, "");
}

void VcpuScaler::port_disconnected(const std::string& vm, const std::string& cause) {
    auto it = vms_.find(vm);
    if (it != vms_.end() && it->second.pending)
        give_up(it->second, "the VM's messaging port went away (" + cause + ")");
}

void VcpuScaler::fill_vm_status(const std::string& vm, control::VmStatus* status) const {
    auto it = vms_.find(vm);
    if (it == vms_.end()) return;
    status->set_vcpus(it->second.config->vcpus);
    status->set_min_vcpus(it->second.config->min_vcpus);
    if (it->second.online)
        for (unsigned cpu : *it->second.online) status->add_online_cpus(cpu);
}

}  // namespace vmhost
