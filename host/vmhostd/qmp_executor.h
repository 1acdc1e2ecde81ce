// Executor "qmp": acts on a QEMU VM through its QMP socket. Each action is one
// short connection: greeting, qmp_capabilities, then the action's commands.
// QEMU has no migration target here, so migrations and resize are emulated by
// pausing and resuming the VM (cold migration also resets it, because the
// guest must go through a reboot before cold_migrate_end).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vm_executor.h"

namespace vmhost {

// The QMP commands that carry out a host action, in order (empty if unknown).
std::vector<std::string> qmp_commands_for(const std::string& action);

class QmpExecutor : public VmExecutor {
public:
    QmpExecutor(gsdk::EventLoop& loop, std::string socket_path, gsdk::Millis timeout);
    ~QmpExecutor() override;
    void carry_out(const std::string& action, Done done) override;
    std::string describe() const override;

private:
    class Exchange;
    void finished(uint64_t id);

    gsdk::EventLoop& loop_;
    std::string socket_path_;
    gsdk::Millis timeout_;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::unique_ptr<Exchange>> exchanges_;
    std::vector<std::unique_ptr<Exchange>> finished_;
    gsdk::Timer reaper_;
};

}  // namespace vmhost
