#include "offline_sources.h"

#include <curl/curl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cpu_set_text.h"
#include "offline_state.h"

namespace gsdk::scale {

namespace {

// An offline_cpuset is a few bytes; anything much larger is not one.
constexpr std::size_t kMaxBody = 64 * 1024;
constexpr std::size_t kMaxMetadataFile = 1024 * 1024;

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
    auto* body = static_cast<std::string*>(user);
    std::size_t n = size * count;
    if (body->size() + n > kMaxBody) return 0;  // curl stops with CURLE_WRITE_ERROR
    body->append(data, n);
    return n;
}

SourceAnswer none(std::string why) { return SourceAnswer{std::nullopt, std::move(why)}; }

SourceAnswer parsed(const std::string& text, const std::string& where) {
    std::string why;
    auto cpus = scalewire::parse_cpu_set(std::string_view(text), &why);
    if (!cpus) return none(where + " is malformed (" + why + "): " + text.substr(0, 64));
    return SourceAnswer{std::move(cpus), where};
}

std::optional<std::string> read_small_file(const std::string& path, std::string* why) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *why = std::strerror(errno);
        return std::nullopt;
    }
    std::string text(kMaxMetadataFile + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxMetadataFile) {
        *why = "larger than 1 MiB";
        return std::nullopt;
    }
    return text;
}

// One metadata file of the drive: (found a key, its answer).
std::optional<SourceAnswer> from_drive_file(const std::string& dir, const std::string& name,
                                            const std::vector<std::string>& key, std::vector<std::string>* notes) {
    std::string path = dir + "/" + name, why;
    auto text = read_small_file(path, &why);
    if (!text) {
        notes->push_back(name + ": " + why);
        return std::nullopt;
    }
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        notes->push_back(name + " is not a JSON object");
        return std::nullopt;
    }
    const nlohmann::json* v = &doc;
    std::string dotted;
    for (const auto& k : key) {
        dotted += (dotted.empty() ? "" : ".") + k;
        if (!v->is_object() || !v->contains(k)) {
            notes->push_back(name + " has no " + dotted);
            return std::nullopt;
        }
        v = &(*v)[k];
    }
    std::string parse_why;
    auto cpus = scalewire::parse_cpu_set(*v, &parse_why);
    if (!cpus) {
        notes->push_back(name + " " + dotted + " is malformed (" + parse_why + ")");
        return std::nullopt;
    }
    return SourceAnswer{std::move(cpus), "config drive " + name + " " + dotted};
}

SourceAnswer from_drive_dir(const std::string& dir) {
    std::vector<std::string> notes;
    if (auto a = from_drive_file(dir, "ec2/latest/meta-data.json", {"offline_cpuset"}, &notes)) return *a;
    if (auto a = from_drive_file(dir, "openstack/latest/meta_data.json", {"meta", "offline_cpuset"}, &notes)) return *a;
    std::string why = "config drive " + dir + ": ";
    for (std::size_t i = 0; i < notes.size(); ++i) why += (i ? "; " : "") + notes[i];
    return none(why);
}

}  // namespace

SourceAnswer offline_from_metadata(const std::string& url, int timeout_ms) {
    if (url.empty()) return none("metadata service: not configured (METADATA_URL empty)");
    if (url.rfind("http://", 0) != 0) return none("metadata service: " + url + " is not an http:// URL");
    CURL* curl = curl_easy_init();
    if (!curl) return none("metadata service: cannot start an HTTP client");
    std::string body;
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");  // link-local: never through a proxy
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    std::string where = "metadata service " + url;
    if (rc == CURLE_WRITE_ERROR) return none(where + ": answer larger than 64 KiB");
    if (rc != CURLE_OK) return none(where + ": " + (*error ? error : curl_easy_strerror(rc)));
    if (status == 404) return none(where + ": absent (404)");
    if (status != 200) return none(where + ": HTTP status " + std::to_string(status));
    return parsed(body, where);
}

SourceAnswer offline_from_config_drive(const std::string& path) {
    if (path.empty()) return none("config drive: not configured (CONFIG_DRIVE empty)");
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) return none("config drive " + path + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return from_drive_dir(path);
    if (!S_ISBLK(st.st_mode)) return none("config drive " + path + ": neither a directory nor a block device");
    char mount_point[] = "/run/guest-scale-restore.XXXXXX";
    if (!::mkdtemp(mount_point)) return none("config drive " + path + ": no mount point: " + std::strerror(errno));
    int err = 0;
    for (const char* type : {"iso9660", "vfat"}) {
        if (::mount(path.c_str(), mount_point, type, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
            err = 0;
            break;
        }
        err = errno;
    }
    if (err) {
        ::rmdir(mount_point);
        return none("config drive " + path + ": cannot mount it read-only: " + std::strerror(err));
    }
    SourceAnswer a = from_drive_dir(mount_point);
    ::umount2(mount_point, MNT_DETACH);
    ::rmdir(mount_point);
    return a;
}

SourceAnswer offline_from_state_file(const std::string& path) {
    std::string why;
    auto cpus = load_offline_state(path, &why);
    if (!cpus) return none("last-known state " + path + ": " + why);
    return SourceAnswer{std::move(cpus), "last-known state " + path};
}

}  // namespace gsdk::scale
