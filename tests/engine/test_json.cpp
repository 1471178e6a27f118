// The JSON field reader (json_reader.h): its checks and its two styles of message.
#include <doctest/doctest.h>

#include "engine.h"

using namespace cow;
using nlohmann::json;

namespace {
const json kObject = json::parse(R"({"name": "fork", "size": 4096, "ratio": 0.5, "on": true, "empty": "",
                                     "list": [1, 2], "none": [], "inner": {"a": 1}, "neg": -3, "frac": 2.5})");
const JsonReader kPath(JsonStyle::path, "t.json");
const JsonReader kQuoted(JsonStyle::quoted, "line 2");
}  // namespace

TEST_CASE("a field of the wrong type: the path style names the type found, the quoted style does not") {
    std::string s;
    double d = 0;
    bool b = false;
    CHECK(kPath.str(kObject, "size", s).message == "t.json: size: must be a string, not number");
    CHECK(kQuoted.str(kObject, "size", s).message == "line 2: \"size\" must be text");
    CHECK(kPath.number(kObject, "name", d).message == "t.json: name: must be a number, not string");
    CHECK(kQuoted.number(kObject, "name", d).message == "line 2: \"name\" must be a number");
    CHECK(kPath.boolean(kObject, "size", b).message == "t.json: size: must be true or false, not number");
    CHECK(kQuoted.boolean(kObject, "size", b).message == "line 2: \"size\" must be true or false");
    const json* v = nullptr;
    CHECK(kPath.array(kObject, "inner", v).message == "t.json: inner: must be an array");
    CHECK(kQuoted.array(kObject, "inner", v).message == "line 2: \"inner\" must be a list");
    CHECK(kPath.object(kObject, "list", v).message == "t.json: list: must be an object");
    CHECK(v == nullptr);
    CHECK(s.empty());   // a field that is wrong leaves the output as it was
}

TEST_CASE("a missing field is an error only when it is required; absent, the output keeps its default") {
    std::string s = "default";
    double d = 7;
    const json* v = nullptr;
    CHECK(kPath.str(kObject, "title", s, kRequired).message == "t.json: title: missing (required)");
    CHECK(kQuoted.number(kObject, "t_s", d, kRequired).message == "line 2: \"t_s\" is missing");
    CHECK(kPath.array(kObject, "steps", v, kRequired).message == "t.json: steps: missing (required)");
    CHECK(kPath.str(kObject, "title", s).ok());
    CHECK(kQuoted.number(kObject, "t_s", d).ok());
    CHECK(kPath.array(kObject, "steps", v).ok());
    CHECK(s == "default");
    CHECK(d == 7);
    CHECK(v == nullptr);
}

TEST_CASE("fields that are there are read") {
    std::string s;
    double d = 0;
    bool b = false;
    int i = 0;
    u64 n = 0;
    const json* list = nullptr;
    const json* inner = nullptr;
    REQUIRE(kPath.str(kObject, "name", s, kRequired).ok());
    REQUIRE(kPath.number(kObject, "ratio", d).ok());
    REQUIRE(kPath.boolean(kObject, "on", b).ok());
    REQUIRE(kPath.whole(kObject, "size", i).ok());
    REQUIRE(kPath.count(kObject, "frac", n).ok());   // a float count is cut to a whole one
    REQUIRE(kPath.array(kObject, "list", list).ok());
    REQUIRE(kPath.object(kObject, "inner", inner).ok());
    CHECK(s == "fork");
    CHECK(d == 0.5);
    CHECK(b);
    CHECK(i == 4096);
    CHECK(n == 2);
    CHECK(list->size() == 2);
    CHECK((*inner)["a"] == 1);
}

TEST_CASE("a nested reader puts its path into the message") {
    const JsonReader op = kPath.at("steps", 2).at("ops", 0);
    CHECK(op.path() == "steps[2].ops[0]");
    double d = 0;
    CHECK(op.number(kObject, "name", d).message == "t.json: steps[2].ops[0].name: must be a number, not string");
    CHECK(op.error("size", "is too big").message == "t.json: steps[2].ops[0].size: is too big");
    CHECK(op.error("must be an object").message == "t.json: steps[2].ops[0]: must be an object");
    CHECK(op.is_object(json::array()).message == "t.json: steps[2].ops[0]: must be an object");
    CHECK(op.is_object(kObject).ok());
    CHECK(kPath.at("machine").error("ram", "out of range").message == "t.json: machine.ram: out of range");
    // The quoted style keeps the field quoted and says where it is before it.
    CHECK(kQuoted.at("rows", 1).number(kObject, "name", d).message == "line 2: rows[1]: \"name\" must be a number");
    // Without a prefix, the message starts at the path.
    CHECK(JsonReader(JsonStyle::path, "").at("x").error("y", "z").message == "x.y: z");
    CHECK(JsonReader(JsonStyle::quoted, "").error("t_s", "goes back in time").message == "\"t_s\" goes back in time");
}

TEST_CASE("strings may be limited in length and required not to be empty; arrays not to be empty") {
    std::string s;
    const json* v = nullptr;
    CHECK(kPath.str(kObject, "name", s, {.max_len = 3}).message == "t.json: name: longer than 3 characters");
    CHECK(kQuoted.str(kObject, "name", s, {.max_len = 3}).message == "line 2: \"name\" is longer than 3 characters");
    CHECK(s.empty());   // too long: not read
    CHECK(kPath.str(kObject, "name", s, {.max_len = 4}).ok());
    CHECK(kPath.str(kObject, "empty", s, {.required = true, .non_empty = true}).message == "t.json: empty: is empty");
    CHECK(kPath.str(kObject, "empty", s, kRequired).ok());
    CHECK(kPath.array(kObject, "none", v, {.non_empty = true}).message == "t.json: none: is empty");
}

TEST_CASE("whole numbers and counts") {
    int i = 0;
    u64 n = 0;
    CHECK(kQuoted.whole(kObject, "neg", i).message == "line 2: \"neg\" must be a whole number");
    CHECK(kQuoted.whole(kObject, "frac", i).message == "line 2: \"frac\" must be a whole number");
    CHECK(kPath.whole(kObject, "neg", i).message == "t.json: neg: must be a whole number from 0 to 2147483647");
    CHECK(kQuoted.whole(kObject, "name", i).message == "line 2: \"name\" must be a number");
    CHECK(kQuoted.count(kObject, "neg", n).message == "line 2: \"neg\" must be a number of at least 0");
    CHECK(kQuoted.count(kObject, "name", n).message == "line 2: \"name\" must be a number of at least 0");
    CHECK(i == 0);
    CHECK(n == 0);
}

TEST_CASE("only the fields named may be there") {
    CHECK(kPath.only(kObject, {"name", "size"}).message.find("t.json: ") == 0);
    CHECK(kPath.at("steps", 0).only(json::parse(R"({"title": "T", "colour": 3})"), {"title"}).message ==
          "t.json: steps[0].colour: unknown field");
    CHECK(kQuoted.only(json::parse(R"({"x": 1})"), {"t_s"}).message == "line 2: \"x\" is not a field here");
    CHECK(kPath.only(json::parse(R"({"title": "T"})"), {"title", "text"}).ok());
}
