// json_reader.cpp: the field reader (json_reader.h) and its two styles of message.
#include "json_reader.h"

#include <cmath>
#include <iterator>

namespace cow {

using nlohmann::json;

JsonReader JsonReader::at(const std::string& key) const {
    return JsonReader(style_, prefix_, path_.empty() ? key : path_ + "." + key);
}

JsonReader JsonReader::at(const std::string& key, std::size_t index) const {
    return at(key + "[" + std::to_string(index) + "]");
}

JsonStatus JsonReader::error(const std::string& key, const std::string& why) const {
    std::string m = prefix_;
    auto part = [&m](const std::string& s) {
        if (!m.empty()) m += ": ";
        m += s;
    };
    if (style_ == JsonStyle::path) {
        std::string where = path_.empty() || key.empty() ? path_ + key : path_ + "." + key;
        if (!where.empty()) part(where);
        part(why);
    } else {
        if (!path_.empty()) part(path_);
        part(key.empty() ? why : "\"" + key + "\" " + why);
    }
    return {m};
}

// The reasons, one row a problem: the path style's (which names the type found when `typed`), the quoted style's.
JsonStatus JsonReader::wrong(const std::string& key, Problem p, const json* v, std::size_t n) const {
    struct Why {
        const char* path;
        const char* quoted;
        bool typed;
    };
    static const Why kWhy[] = {
        {"missing (required)", "is missing", false},
        {"must be a string", "must be text", true},
        {"must be a number", "must be a number", true},
        {"is not a finite number", "must be finite", false},
        {"must be true or false", "must be true or false", true},
        {"must be a whole number from 0 to 2147483647", "must be a whole number", false},
        {"must be a number of at least 0", "must be a number of at least 0", false},
        {"must be an array", "must be a list", false},
        {"must be an object", "must be an object", false},
        {"is empty", "is empty", false},
        {"longer than", "is longer than", false},
        {"unknown field", "is not a field here", false},
    };
    static_assert(std::size(kWhy) == std::size_t(Problem::unknown) + 1, "one reason a problem");
    const Why& w = kWhy[int(p)];
    std::string why = style_ == JsonStyle::path ? w.path : w.quoted;
    if (p == Problem::too_long) why.append(" ").append(std::to_string(n)).append(" characters");
    if (style_ == JsonStyle::path && w.typed && v) why.append(", not ").append(v->type_name());
    return error(key, why);
}

const json* JsonReader::find(const json& o, const char* key, JsonField f, JsonStatus& st) const {
    auto it = o.find(key);
    if (it != o.end()) return &*it;
    if (f.required) st = wrong(key, Problem::missing);
    return nullptr;
}

JsonStatus JsonReader::str(const json& o, const char* key, std::string& out, JsonField f) const {
    JsonStatus st;
    const json* v = find(o, key, f, st);
    if (!v) return st;
    if (!v->is_string()) return wrong(key, Problem::not_string, v);
    const std::string& text = v->get_ref<const std::string&>();
    if (f.max_len && text.size() > f.max_len) return wrong(key, Problem::too_long, v, f.max_len);
    if (f.non_empty && text.empty()) return wrong(key, Problem::empty);
    out = text;
    return {};
}

JsonStatus JsonReader::number(const json& o, const char* key, double& out, JsonField f) const {
    JsonStatus st;
    const json* v = find(o, key, f, st);
    if (!v) return st;
    if (!v->is_number()) return wrong(key, Problem::not_number, v);
    const double d = v->get<double>();
    if (!std::isfinite(d)) return wrong(key, Problem::not_finite);
    out = d;
    return {};
}

JsonStatus JsonReader::boolean(const json& o, const char* key, bool& out, JsonField f) const {
    JsonStatus st;
    const json* v = find(o, key, f, st);
    if (!v) return st;
    if (!v->is_boolean()) return wrong(key, Problem::not_boolean, v);
    out = v->get<bool>();
    return {};
}

JsonStatus JsonReader::whole(const json& o, const char* key, int& out, JsonField f) const {
    JsonStatus st;
    const json* v = find(o, key, f, st);
    if (!v) return st;
    if (!v->is_number()) return wrong(key, Problem::not_number, v);
    const double d = v->get<double>();
    if (!std::isfinite(d)) return wrong(key, Problem::not_finite);
    if (d != std::floor(d) || d < 0 || d > 2147483647.0) return wrong(key, Problem::not_whole);
    out = int(d);
    return {};
}

// An unsigned integer, or a float at least 0 (a writer's large figures), cut to a whole count.
JsonStatus JsonReader::count(const json& o, const char* key, std::uint64_t& out, JsonField f) const {
    JsonStatus st;
    const json* v = find(o, key, f, st);
    if (!v) return st;
    if (v->is_number_unsigned()) out = v->get<std::uint64_t>();
    else if (v->is_number_float() && v->get<double>() >= 0 && v->get<double>() < 1.8e19) out = std::uint64_t(v->get<double>());
    else return wrong(key, Problem::not_count);
    return {};
}

JsonStatus JsonReader::array(const json& o, const char* key, const json*& out, JsonField f) const {
    return container(o, key, out, f, &json::is_array, Problem::not_array);
}

JsonStatus JsonReader::object(const json& o, const char* key, const json*& out, JsonField f) const {
    return container(o, key, out, f, &json::is_object, Problem::not_object);
}

// An array or an object: the value itself, checked for its kind and, if asked, not empty.
JsonStatus JsonReader::container(const json& o, const char* key, const json*& out, JsonField f, bool (json::*is)() const noexcept,
                                 Problem wrong_kind) const {
    JsonStatus st;
    const json* v = find(o, key, f, st);
    if (!v) return st;
    if (!(v->*is)()) return wrong(key, wrong_kind, v);
    if (f.non_empty && v->empty()) return wrong(key, Problem::empty);
    out = v;
    return {};
}

JsonStatus JsonReader::is_object(const json& v) const {
    return v.is_object() ? JsonStatus{} : wrong("", Problem::not_object, &v);
}

JsonStatus JsonReader::only(const json& o, std::initializer_list<const char*> known) const {
    if (!o.is_object()) return {};
    for (auto it = o.begin(); it != o.end(); ++it) {
        bool ok = false;
        for (const char* k : known) ok |= it.key() == k;
        if (!ok) return wrong(it.key(), Problem::unknown);
    }
    return {};
}

}  // namespace cow
