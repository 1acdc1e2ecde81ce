#include "messaging_hub.h"

namespace vmhost {

MessagingHub::MessagingHub(gsdk::EventLoop& loop, const std::vector<VmConfig>& vms, const MessagingLimits& limits) {
    for (const auto& vm : vms) {
        if (!vm.messaging) continue;
        const std::string name = vm.name;
        // Every service hears of the port coming and going.
        auto each = [this](auto&& fn) {
            for (auto& [address, service] : services_) fn(service);
            if (fallback_) {
                bool listed = false;
                for (auto& [address, service] : services_) listed = listed || service == fallback_;
                if (!listed) fn(fallback_);
            }
        };
        ports_[name] = std::make_unique<MessagingPort>(
            loop, name, *vm.messaging, limits,
            MessagingPort::Callbacks{[each, name] { each([&](MessagingService* s) { s->port_connected(name); }); },
                                     [each, name](const std::string& cause) {
                                         each([&](MessagingService* s) { s->port_disconnected(name, cause); });
                                     },
                                     [this, name](Envelope&& e) { route(name, std::move(e)); },
                                     [this, name](const std::string& reason, const std::string& msg_type) {
                                         if (fallback_) fallback_->refused(name, reason, msg_type);
                                     },
                                     [this, name] {
                                         if (fallback_) fallback_->rate_limited(name);
                                     }});
    }
}

void MessagingHub::serve(const std::string& address, MessagingService* service) {
    services_.emplace_back(address, service);
}

MessagingService* MessagingHub::service_for(const std::string& address) const {
    for (const auto& [pattern, service] : services_) {
        if (!pattern.empty() && pattern.back() == '*') {
            if (address.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0) return service;
        } else if (address == pattern) {
            return service;
        }
    }
    return nullptr;
}

void MessagingHub::route(const std::string& vm, Envelope&& envelope) {
    if (MessagingService* s = service_for(envelope.dest_addr)) {
        s->received(vm, std::move(envelope));
        return;
    }
    std::string msg_type;
    if (auto t = envelope.data.find("msg_type"); t != envelope.data.end() && t->is_string()) msg_type = *t;
    if (fallback_) fallback_->refused(vm, "no host service at dest_addr \"" + envelope.dest_addr + "\"", msg_type);
}

void MessagingHub::start() {
    for (auto& [vm, port] : ports_) port->start();
}

void MessagingHub::stop() {
    for (auto& [vm, port] : ports_) port->stop();
}

MessagingPort* MessagingHub::port(const std::string& vm) {
    auto it = ports_.find(vm);
    return it == ports_.end() ? nullptr : it->second.get();
}

const MessagingPort* MessagingHub::port(const std::string& vm) const {
    auto it = ports_.find(vm);
    return it == ports_.end() ? nullptr : it->second.get();
}

}  // namespace vmhost
