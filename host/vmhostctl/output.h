// How vmhostctl shows replies: aligned tables for people, JSON for scripts.
// Both forms are kept stable; scripts and the demo parse them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vmhost_control.pb.h"

namespace vmhostctl {

namespace control = gsdk::vmhost::control;

// Left-aligned columns separated by two spaces; the last column is not padded.
std::string format_table(const std::vector<std::vector<std::string>>& rows);

std::string vm_table(const control::VmList& list);
nlohmann::json vm_json(const control::VmList& list);

std::string outcome_name(control::Outcome outcome);  // accepted, rejected, aborted, failed
// First line: "VM ACTION: OUTCOME[ by WHO: WHY]", then the steps.
std::string action_text(const control::ActionResult& result);
nlohmann::json action_json(const control::ActionResult& result);

std::vector<std::string> event_row(const control::Event& event);
std::vector<std::string> event_header();
nlohmann::json event_json(const control::Event& event);

// Server groups: `group list` (one row per group), `group show` (the group's
// counters, then one row per member), and their JSON forms.
std::string group_list_table(const control::GroupList& list);
std::string group_show_text(const control::ServerGroupStatus& group);
nlohmann::json group_json(const control::ServerGroupStatus& group);
nlohmann::json member_counters_json(const control::MemberCounters& counters);

std::string local_time(int64_t time_ms);  // "YYYY-MM-DD HH:MM:SS.mmm"

}  // namespace vmhostctl
