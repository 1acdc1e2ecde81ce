// vCPU scaling on the reference host (docs/vmhost.md "vCPU scaling"): for
// `vmhostctl scale VM cpu up|down` it checks the VM's bounds (vcpus and
// min_vcpus in its config), picks the lowest offline CPU for a scale up,
// hot-plugs a vCPU through QMP first when the VM runs under QEMU and has no
// such CPU yet, sends the guest a scale_request (timeout_ms 9000) from a
// fresh scale-XXXXXXXX address on the VM's messaging port, and reports the
// guest's answer: the online CPUs it names are checked against what the
// host expects, and the VM's server groups hear of the change through the
// relay (VmChange::Kind::Scaled). One operation per VM at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "event_log.h"
#include "gsdk/event_loop.h"
#include "guest_scale/qmp_cpu_hotplug.h"
#include "host_config.h"
#include "messaging_hub.h"
#include "scale_layer.h"
#include "vm_observer.h"
#include "vmhost_control.pb.h"

namespace vmhost {

namespace control = gsdk::vmhost::control;

// What the reference host sends, and how long it waits beyond it.
inline constexpr int64_t kScaleTimeoutMs = 9000;
inline constexpr gsdk::Millis kScaleAnswerWait{10000};

class VcpuScaler : public MessagingService {
public:
    // Hears the outcome: a ScaleResult, or an error message (host refusal).
    using Finished = std::function<void(const control::ScaleResult* result, const std::string& error)>;

    VcpuScaler(gsdk::EventLoop& loop, EventLog& events, MessagingHub& hub, const std::vector<VmConfig>& vms);
    ~VcpuScaler() override;

    // The relay (or anyone) hears of each completed scale operation.
    void add_observer(VmObserver* observer) { observers_.push_back(observer); }
    void scale(const std::string& vm, const std::string& resource, const std::string& direction, Finished finished);
    void fill_vm_status(const std::string& vm, control::VmStatus* status) const;
    void stop();

    // MessagingService: answers to our scale-* addresses.
    void port_connected(const std::string& vm) override {}
    void port_disconnected(const std::string& vm, const std::string& cause) override;
    void received(const std::string& vm, Envelope&& envelope) override;

private:
    struct Pending {
        std::string requester;
        gsdk::scalewire::Direction direction;
        unsigned cpu = 0;  // up: the CPU asked for
        bool hot_added = false;
        gsdk::Clock::time_point sent;
        Finished finished;
        std::unique_ptr<gsdk::Timer> deadline;
    };
    struct VmScale {
        const VmConfig* config = nullptr;
        // The host's view: every CPU of the VM the guest has online. Unknown
        // until the first operation (QMP: asked from QEMU then).
        std::optional<std::set<unsigned>> online;
        unsigned present = 0;  // vCPUs plugged (QMP); vcpus otherwise
        std::optional<Pending> pending;
        std::unique_ptr<QmpCpuHotplug> qmp;
    };

    void proceed(VmScale& s, gsdk::scalewire::Direction direction, Finished finished);
    void send_request(VmScale& s, gsdk::scalewire::Direction direction, unsigned cpu, bool hot_added,
                      Finished finished);
    void answered(VmScale& s, const gsdk::scalewire::ScaleResponse& response);
    void give_up(VmScale& s, const std::string& why);
    void drop_qmp_later(VmScale& s);
    void retire(std::unique_ptr<gsdk::Timer> timer);
    void notify(const VmChange& change);

    gsdk::EventLoop& loop_;
    EventLog& events_;
    MessagingHub& hub_;
    std::map<std::string, VmScale> vms_;
    std::vector<VmObserver*> observers_;
    uint32_t next_requester_ = 1;
    std::vector<std::unique_ptr<QmpCpuHotplug>> done_qmp_;
    std::vector<std::unique_ptr<gsdk::Timer>> retired_;
    gsdk::Timer reaper_;
};

}  // namespace vmhost
