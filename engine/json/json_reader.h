// json_reader.h: reading the fields of a JSON object (nlohmann::json) with
// messages that say which field is wrong and why. The engine's one field
// reader: lesson files (lesson.cpp) and recordings (recording.cpp) read
// through it. A layer of its own at the bottom, beside the kernel (which reads
// no JSON): it links only nlohmann/json.
//
//   JsonReader file(JsonStyle::path, "bad.json");
//   JsonReader step = file.at("steps", 0);                    // the fields of steps[0]
//   if (JsonStatus st = step.str(s, "title", title, kRequired); !st) return st;
//   if (JsonStatus st = step.number(s, "delay", delay); !st) return st;   // optional: absent keeps delay
//   if (delay < 0) return step.error("delay", "must not be negative");    // the caller's own checks
//
// The caller chooses the style of the messages:
//
//   path     PREFIX: PATH.FIELD: REASON     bad.json: parameters[0].default: must be a number, not string
//   quoted   PREFIX: PATH: "FIELD" REASON   line 2: "t_s" is missing
//
// (an empty prefix or path is left out with its separator). A read returns a
// JsonStatus, ok or the message; it never throws. The caller turns a message
// into its own error (Status, in the layers above). A field that is absent and
// not required leaves its output as it was: the output's value is the default.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace cow {

// What a read says: ok, or the message, already in the reader's style.
struct [[nodiscard]] JsonStatus {
    std::string message;   // empty: ok

    bool ok() const { return message.empty(); }
    explicit operator bool() const { return ok(); }
};

enum class JsonStyle : std::uint8_t {
    path,     // "bad.json: steps[0].title: missing (required)"   (lesson files)
    quoted,   // "line 2: \"t_s\" is missing"                      (recordings)
};

// How a field is read.
struct JsonField {
    bool required = false;      // absent is an error (else the output keeps its value)
    bool non_empty = false;     // strings and arrays: an empty one is an error
    std::size_t max_len = 0;    // strings: at most this many characters (0: any length)
};
inline constexpr JsonField kRequired{.required = true};

class JsonReader {
public:
    JsonReader(JsonStyle style, std::string prefix, std::string path = "")
        : style_(style), prefix_(std::move(prefix)), path_(std::move(path)) {}

    // The reader of a nested object: at("machine") reads "machine.ram", at("steps", 2) "steps[2].title".
    JsonReader at(const std::string& key) const;
    JsonReader at(const std::string& key, std::size_t index) const;
    const std::string& path() const { return path_; }

    // The fields of object o (a value that is not an object has none). Each checks presence and type
    // and says what is wrong; on an error the output is left as it was.
    JsonStatus str(const nlohmann::json& o, const char* key, std::string& out, JsonField f = {}) const;
    JsonStatus number(const nlohmann::json& o, const char* key, double& out, JsonField f = {}) const;   // finite
    JsonStatus boolean(const nlohmann::json& o, const char* key, bool& out, JsonField f = {}) const;
    JsonStatus whole(const nlohmann::json& o, const char* key, int& out, JsonField f = {}) const;   // 0 .. 2^31-1
    JsonStatus count(const nlohmann::json& o, const char* key, std::uint64_t& out, JsonField f = {}) const;   // >= 0
    // An array or an object: out points into o (left as it was when the field is absent).
    JsonStatus array(const nlohmann::json& o, const char* key, const nlohmann::json*& out, JsonField f = {}) const;
    JsonStatus object(const nlohmann::json& o, const char* key, const nlohmann::json*& out, JsonField f = {}) const;

    // The value this reader is at must be an object (an element of an array, say).
    JsonStatus is_object(const nlohmann::json& v) const;
    // Every field of object o is one of known.
    JsonStatus only(const nlohmann::json& o, std::initializer_list<const char*> known) const;

    // A message in this reader's style: about a field of the object, or (no field) the object itself.
    JsonStatus error(const std::string& key, const std::string& why) const;
    JsonStatus error(const std::string& why) const { return error("", why); }

private:
    enum class Problem : std::uint8_t { missing, not_string, not_number, not_finite, not_boolean, not_whole, not_count,
                                        not_array, not_object, empty, too_long, unknown };
    // The reason, in this reader's style; v: the value found (its type may be named), n: a limit.
    JsonStatus wrong(const std::string& key, Problem p, const nlohmann::json* v = nullptr, std::size_t n = 0) const;
    JsonStatus container(const nlohmann::json& o, const char* key, const nlohmann::json*& out, JsonField f,
                         bool (nlohmann::json::*is)() const noexcept, Problem wrong_kind) const;
    // The field, or null: absent (an error in st if it is required).
    const nlohmann::json* find(const nlohmann::json& o, const char* key, JsonField f, JsonStatus& st) const;

    JsonStyle style_;
    std::string prefix_, path_;
};

}  // namespace cow
