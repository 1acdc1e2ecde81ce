#include "observed_executor.h"

namespace vmhost {

ObservedExecutor::ObservedExecutor(std::string vm, std::unique_ptr<VmExecutor> inner, Report report)
    : vm_(std::move(vm)), inner_(std::move(inner)), report_(std::move(report)) {}

void ObservedExecutor::carry_out(const std::string& action, Done done) {
    report_(VmChange{VmChange::Kind::ActionBegin, vm_, action, "", -1});
    // `this` outlives the callback: the inner executor, which we own, never
    // calls it once destroyed.
    inner_->carry_out(action, [this, action, done = std::move(done)](const ExecutorResult& r) {
        report_(VmChange{r.ok ? VmChange::Kind::ActionEnd : VmChange::Kind::ActionFailed, vm_, action, r.detail, -1});
        done(r);
    });
}

}  // namespace vmhost
