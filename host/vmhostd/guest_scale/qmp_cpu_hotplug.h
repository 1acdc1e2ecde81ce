// One short QMP conversation about a VM's vCPUs (QEMU's query-hotpluggable-
// cpus): how many are present, and, when asked, device_add of one more into
// the first free slot (QEMU started with -smp N,maxcpus=M). The guest kernel
// then sees a new CPU, offline, numbered after the present ones; the scale
// request that follows brings it online.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "gsdk/event_loop.h"
#include "gsdk/json_line.h"

namespace vmhost {

struct CpuSlots {
    bool ok = false;
    std::string detail;    // what happened, or why it failed
    unsigned present = 0;  // vCPUs plugged before this conversation
    unsigned slots = 0;    // present + free
    bool added = false;    // one was device_added
};

class QmpCpuHotplug {
public:
    using Done = std::function<void(const CpuSlots&)>;

    // `done` runs once, from the loop, never from inside start(); the object
    // may be destroyed from it.
    QmpCpuHotplug(gsdk::EventLoop& loop, std::string socket_path, gsdk::Millis timeout, bool add_one, Done done);
    ~QmpCpuHotplug();
    void start();

private:
    void readable();
    void on_line(std::string_view line);
    void execute(const std::string& command, const nlohmann::json& arguments = nullptr);
    void slots_known(const nlohmann::json& cpus);
    void finish(bool ok, std::string detail);

    gsdk::EventLoop& loop_;
    std::string socket_path_;
    gsdk::Millis timeout_;
    bool add_one_;
    Done done_;
    gsdk::Timer deadline_;
    gsdk::Timer report_;
    int fd_ = -1;
    std::unique_ptr<gsdk::FdWatch> watch_;
    gsdk::LineSplitter splitter_{256 * 1024};
    bool greeted_ = false;
    std::string last_command_;
    CpuSlots result_;
    bool finished_ = false;
};

}  // namespace vmhost
