// Runs a function in a forked child, optionally as another (unprivileged)
// user, and returns the text it produced; the child is killed at the
// deadline. The test process is single-threaded when it forks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gsdk::test {

inline constexpr uid_t kNobody = 65534;

// body runs in the child (as uid/gid `as` when set); its result comes back.
// meanwhile (if given) runs in the parent while the child runs (e.g. the
// host's side of the conversation). nullopt if the child died, could not
// change user, or overran the deadline.
std::optional<std::string> run_in_child(const std::function<std::string()>& body, std::optional<uid_t> as,
                                        const std::function<void()>& meanwhile = nullptr,
                                        std::chrono::milliseconds deadline = std::chrono::milliseconds(20000));
// The same as uid (and gid) `as` with these supplementary groups.
std::optional<std::string> run_in_child_with_groups(const std::function<std::string()>& body, uid_t as,
                                                    const std::vector<gid_t>& groups);

}  // namespace gsdk::test
