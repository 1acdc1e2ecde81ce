#include "host_session.h"

#include <algorithm>

#include "challenge_answer.h"
#include "gsdk/log.h"

namespace gsdk::heartbeat {

namespace {
constexpr int kPropagationAllowanceSecs = 1;
constexpr Millis kMinChallengeSilence{5000};
}  // namespace

HostSession::HostSession(EventLoop& loop, const DaemonConfig& config, ApplicationRegistry& apps, HealthScript& script,
                         ChildProcesses& children)
    : loop_(loop), config_(config), apps_(apps), script_(script), children_(children),
      channel_(loop, *ChannelAddress::parse(config.host_channel),
               HostChannel::Callbacks{
                   [this] { connected(); },
                   [this](std::string_view line) { received(line); },
                   [this](const std::string& cause) { disconnected(cause); },
               }),
      init_timer_(loop, [this] { send_init(); }),
      watchdog_(loop,
                [this] {
                    LOG_WARN("no challenge from the host for %lld ms; initialising again",
                             static_cast<long long>(
                                 std::max(Millis(2 * config_.heartbeat_interval_ms), kMinChallengeSilence).count()));
                    begin_init(Millis(0));
                }),
      hold_timer_(loop, [this] { answer_challenge(); }), round_reaper_(loop, [this] { finished_round_.reset(); }),
      suppressor_(std::chrono::seconds(config.suppress_repeat_secs)), rng_(std::random_device{}()) {}

void HostSession::start() { channel_.start(); }

void HostSession::stop(const std::string& why) {
    if (channel_.connected()) send(hbwire::Exit{why});
    round_.reset();
    init_timer_.stop();
    watchdog_.stop();
    hold_timer_.stop();
    channel_.stop();
    state_ = State::Disconnected;
}

void HostSession::announce_again() {
    if (channel_.connected()) begin_init(Millis(0));
}

void HostSession::connected() { begin_init(Millis(config_.init_delay_ms)); }

void HostSession::disconnected(const std::string& cause) {
    state_ = State::Disconnected;
    init_timer_.stop();
    watchdog_.stop();
    hold_timer_.stop();
    held_challenge_.reset();
    if (round_) {
        LOG_WARN("host went away during %s %s; that round is abandoned", hbwire::to_string(round_->notify().event_type),
                 hbwire::to_string(round_->notify().notification_type));
        round_.reset();
    }
}

void HostSession::begin_init(Millis delay) {
    state_ = State::Initialising;
    watchdog_.stop();
    hold_timer_.stop();
    held_challenge_.reset();
    init_timer_.start(delay);
}

void HostSession::send_init() {
    if (!channel_.connected()) return;
    previous_invocation_id_ = invocation_id_;
    invocation_id_ = std::uniform_int_distribution<int64_t>(1, INT32_MAX)(rng_);
    hbwire::Init init;
    init.invocation_id = invocation_id_;
    init.name = config_.guest_name;
    init.heartbeat_interval_ms = config_.heartbeat_interval_ms;
    init.vote_secs = config_.vote_secs + kPropagationAllowanceSecs;
    init.shutdown_notice_secs = config_.shutdown_notice_secs + kPropagationAllowanceSecs;
    init.suspend_notice_secs = config_.suspend_notice_secs + kPropagationAllowanceSecs;
    init.resume_notice_secs = config_.resume_notice_secs + kPropagationAllowanceSecs;
    init.restart_secs = config_.restart_secs + kPropagationAllowanceSecs;
    init.corrective_action = config_.corrective_action;
    send(init);
    LOG_INFO("sent init (invocation %lld, interval %d ms)", static_cast<long long>(invocation_id_),
             config_.heartbeat_interval_ms);
    init_timer_.start(Millis(config_.init_retry_ms));
}

void HostSession::received(std::string_view line) {
    std::string error;
    auto object = parse_json_object(line, &error);
    if (!object) {
        LOG_RATELIMITED(LogLevel::Warning, "host line " + error, "dropped a line from the host (%s): %.120s",
                        error.c_str(), std::string(line).c_str());
        return;
    }
    hbwire::Decoded decoded = hbwire::decode(*object);
    if (auto* bad = std::get_if<hbwire::DecodeError>(&decoded)) {
        switch (bad->kind) {
        case hbwire::DecodeError::Kind::OldVersion:
            LOG_RATELIMITED(LogLevel::Warning, "old " + bad->msg_type, "dropped a %s message from the host: %s",
                            bad->msg_type.c_str(), bad->detail.c_str());
            break;
        case hbwire::DecodeError::Kind::UnknownType:
            LOG_RATELIMITED(LogLevel::Warning, "unknown type", "ignored a message from the host: %s",
                            bad->detail.c_str());
            break;
        case hbwire::DecodeError::Kind::Malformed:
            LOG_RATELIMITED(LogLevel::Warning, "malformed " + bad->detail,
                            "dropped a malformed %s message from the host: %s",
                            bad->msg_type.empty() ? "?" : bad->msg_type.c_str(), bad->detail.c_str());
            break;
        }
        return;
    }
    handle(std::get<hbwire::Message>(decoded));
}

void HostSession::handle(const hbwire::Message& message) {
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, hbwire::InitAck>) {
                if (state_ != State::Initialising ||
                    (m.invocation_id != invocation_id_ && m.invocation_id != previous_invocation_id_)) {
                    LOG_INFO("ignored init_ack for invocation %lld", static_cast<long long>(m.invocation_id));
                    return;
                }
                init_timer_.stop();
                state_ = State::Active;
                auto offered = [&m](const char* ext) {
                    return std::find(m.extensions.begin(), m.extensions.end(), ext) != m.extensions.end();
                };
                host_wants_applications_ = offered(hbwire::kExtensionApplications);
                host_allows_held_challenges_ = offered(hbwire::kExtensionHeldChallenges);
                sent_generation_ = UINT64_MAX;
                watchdog_.start(std::max(Millis(2 * config_.heartbeat_interval_ms), kMinChallengeSilence));
                LOG_NOTICE("heartbeat established with the host (invocation %lld)",
                           static_cast<long long>(m.invocation_id));
            } else if constexpr (std::is_same_v<T, hbwire::Challenge>) {
                if (state_ != State::Active) {
                    LOG_RATELIMITED(LogLevel::Warning, "early challenge",
                                    "challenge %lld from the host before init_ack: ignored",
                                    static_cast<long long>(m.heartbeat_challenge));
                    return;
                }
                challenged(m.heartbeat_challenge);
            } else if constexpr (std::is_same_v<T, hbwire::ActionNotify>) {
                action_requested(m);
            } else if constexpr (std::is_same_v<T, hbwire::Exit>) {
                LOG_NOTICE("host said goodbye (%s); initialising again", m.log_msg.c_str());
                begin_init(Millis(config_.init_delay_ms));
            } else if constexpr (std::is_same_v<T, hbwire::Nack>) {
                LOG_WARN("host refused our %s (invocation %lld): %s",
                         m.orig_msg_type.empty() ? "message" : m.orig_msg_type.c_str(),
                         static_cast<long long>(m.invocation_id), m.log_msg.c_str());
            } else {
                LOG_WARN("unexpected %s message from the host ignored", hbwire::msg_type_of(message.body));
            }
        },
        message.body);
}

void HostSession::challenged(int64_t challenge) {
    watchdog_.start(std::max(Millis(2 * config_.heartbeat_interval_ms), kMinChallengeSilence));
    if (held_challenge_) answer_challenge();  // the host gave up on it already
    held_challenge_ = challenge;
    if (host_allows_held_challenges_ && config_.challenge_hold_percent > 0 && current_verdict(false).healthy) {
        hold_timer_.start(Millis(config_.heartbeat_interval_ms * config_.challenge_hold_percent / 100));
        return;
    }
    answer_challenge();
}

void HostSession::health_changed() {
    if (held_challenge_ && hold_timer_.pending()) answer_challenge();
}

HealthVerdict HostSession::current_verdict(bool for_sending) {
    std::vector<HealthFinding> findings = apps_.unhealthy_findings();
    std::vector<HealthFinding> failures = apps_.pending_failures();
    findings.insert(findings.end(), std::make_move_iterator(failures.begin()), std::make_move_iterator(failures.end()));
    if (auto f = script_.finding()) findings.push_back(*f);
    // Merge first, then suppress: the window only turns a repeated action
    // into "none"; the answer stays unhealthy while anything fails.
    HealthVerdict merged = merge_health(findings, config_.corrective_action);
    if (!for_sending) return merged;
    return suppressor_.apply(std::move(merged), findings, RepeatSuppressor::Clock::now());
}

void HostSession::answer_challenge() {
    hold_timer_.stop();
    if (!held_challenge_) return;
    HealthVerdict verdict = current_verdict(true);
    std::optional<std::vector<hbwire::ApplicationStatus>> statuses;
    if (host_wants_applications_ && apps_.generation() != sent_generation_) {
        statuses = apps_.statuses();
        sent_generation_ = apps_.generation();
    }
    hbwire::ChallengeResponse response =
        compose_challenge_response(*held_challenge_, verdict, statuses ? &*statuses : nullptr);
    held_challenge_.reset();
    if (!verdict.healthy)
        LOG_RATELIMITED(LogLevel::Warning, std::string("reporting ") + hbwire::to_string(verdict.action),
                        "reporting unhealthy to the host, corrective action %s: %s", hbwire::to_string(verdict.action),
                        verdict.log_msg.c_str());
    send(response);
}

void HostSession::action_requested(const hbwire::ActionNotify& notify) {
    if (notify.notification_type == hbwire::NotificationType::Unknown)
        LOG_RATELIMITED(LogLevel::Warning, "unknown notification type",
                        "action_notify for %s (invocation %lld) with an unknown notification type: run as a "
                        "notification",
                        hbwire::to_string(notify.event_type), static_cast<long long>(notify.invocation_id));
    if (round_) {
        LOG_NOTICE("%s %s aborts %s %s still in progress", hbwire::to_string(notify.event_type),
                   hbwire::to_string(notify.notification_type), hbwire::to_string(round_->notify().event_type),
                   hbwire::to_string(round_->notify().notification_type));
        round_.reset();
    }
    int32_t round_id = next_round_id_++;
    if (next_round_id_ == INT32_MAX) next_round_id_ = 1;
    round_ =
        std::make_unique<VoteRound>(loop_, apps_, children_, config_, round_id, notify,
                                    [this, notify](hbwire::VoteResult result, const std::string& why) {
                                        hbwire::ActionResponse response;
                                        response.invocation_id = notify.invocation_id;
                                        response.event_type = notify.event_type;
                                        response.notification_type = notify.notification_type;
                                        response.vote_result = result;
                                        response.log_msg = why;
                                        LOG_NOTICE("answering %s %s: %s%s%s", hbwire::to_string(notify.event_type),
                                                   hbwire::to_string(notify.notification_type),
                                                   hbwire::to_string(result), why.empty() ? "" : " - ", why.c_str());
                                        send(response);
                                        // Destroyed outside its own callback.
                                        finished_round_ = std::move(round_);
                                        round_reaper_.start(Millis(0));
                                    });
    round_->start();
}

void HostSession::application_answered(const std::string& app, const ipc::ActionResponse& response) {
    if (round_) round_->application_answered(app, response);
}

void HostSession::application_departed(const std::string& app) {
    if (round_) round_->application_departed(app);
}

void HostSession::send(hbwire::Body body) {
    hbwire::Message message{++sequence_, std::move(body)};
    int rc = channel_.send(hbwire::encode_line(message));
    if (rc < 0) LOG_DEBUG("%s not sent: host not connected", hbwire::msg_type_of(message.body));
}

}  // namespace gsdk::heartbeat
