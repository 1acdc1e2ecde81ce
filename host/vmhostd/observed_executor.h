// An executor that reports what it carries out (VmChange ActionBegin, then
// ActionEnd or ActionFailed): host actions and corrective actions alike go
// through a VM's executor, so this is the one place that sees every change
// the host makes to a VM.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "vm_executor.h"
#include "vm_observer.h"

namespace vmhost {

class ObservedExecutor : public VmExecutor {
public:
    using Report = std::function<void(const VmChange& change)>;
    ObservedExecutor(std::string vm, std::unique_ptr<VmExecutor> inner, Report report);

    void carry_out(const std::string& action, Done done) override;
    std::string describe() const override { return inner_->describe(); }

private:
    std::string vm_;
    std::unique_ptr<VmExecutor> inner_;
    Report report_;
};

}  // namespace vmhost
