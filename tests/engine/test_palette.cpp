// The frame palette (engine/kernel/framemap.h): one colour and name per frame
// code, and nobody else's copy of it. The page-map shader takes the table as a
// uniform (web/pagemap.cpp); these tests fail if a copy creeps back into
// shaders/ or web/, where it could drift from the table again.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "lab.h"

using namespace test;

namespace {

std::string read_source(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot read " << p.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::filesystem::path kRoot = COWLAB_SOURCE_DIR;

// A colour written in a source file, as 8-bit channels (how it reaches the screen).
struct Written {
    int r, g, b;
    std::string text;
};

int channel(double v) { return int(std::lround(v * 255.0)); }

// Every RGB triple a source writes: vec3(r, g, b) in GLSL; {r f, g f, b f},
// ImVec4(r, g, b, ...) and IM_COL32(r, g, b, ...) in C++.
std::vector<Written> colours_written(const std::string& text) {
    std::vector<Written> out;
    const std::string num = R"(([0-9]*\.[0-9]+|[0-9]+)f?)", sep = R"(\s*,\s*)";
    const std::regex floats("(?:vec3|ImVec4|\\{)\\s*\\(?\\s*" + num + sep + num + sep + num);
    for (std::sregex_iterator it(text.begin(), text.end(), floats), end; it != end; ++it) {
        const std::smatch& m = *it;
        if (m[1].str().find('.') == std::string::npos) continue;   // integers in braces are not colours
        out.push_back({channel(std::stod(m[1])), channel(std::stod(m[2])), channel(std::stod(m[3])), m.str()});
    }
    const std::regex bytes(R"(IM_COL32\(\s*([0-9]+)\s*,\s*([0-9]+)\s*,\s*([0-9]+))");
    for (std::sregex_iterator it(text.begin(), text.end(), bytes), end; it != end; ++it)
        out.push_back({std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3]), it->str()});
    return out;
}

// The palette entry a written colour copies, or nullptr.
const FrameStyle* copies_palette(const Written& w) {
    for (const FrameStyle& s : kFramePalette)
        if (channel(s.colour.r) == w.r && channel(s.colour.g) == w.g && channel(s.colour.b) == w.b) return &s;
    return nullptr;
}

}  // namespace

TEST_CASE("the frame palette has one opaque, distinct colour and one name per frame code, in code order") {
    for (int c = 0; c < kFrameCodeCount; ++c) {
        const FrameStyle& s = kFramePalette[c];
        CHECK(int(s.code) == c);
        CHECK(std::string(to_string(FrameCode(c))) == s.name);
        CHECK(s.colour.a == 1.0f);
        for (float v : {s.colour.r, s.colour.g, s.colour.b}) CHECK((v >= 0.0f && v <= 1.0f));
        for (int d = 0; d < c; ++d) {
            const FrameStyle& o = kFramePalette[d];
            CHECK_MESSAGE(std::string(o.name) != s.name, "two codes are named " << std::string(s.name));
            CHECK_MESSAGE(!(o.colour.r == s.colour.r && o.colour.g == s.colour.g && o.colour.b == s.colour.b),
                          std::string(o.name) << " and " << std::string(s.name) << " have the same colour");
        }
    }
}

TEST_CASE("the page-map shader takes its colours from the engine's palette and keeps no copy") {
    const std::string frag = read_source(kRoot / "shaders" / "pagemap.frag");
    // The colours arrive as a uniform sized by the engine's code count (prepended by web/pagemap.cpp).
    CHECK(frag.find("uniform vec3 u_palette[COWLAB_FRAME_CODES];") != std::string::npos);
    CHECK(frag.find("u_palette[") != frag.rfind("u_palette["));   // declared and read
    // No colour of the palette is written in the shader.
    for (const Written& w : colours_written(frag))
        if (const FrameStyle* s = copies_palette(w)) FAIL_CHECK("pagemap.frag writes the colour of '" << std::string(s->name) << "': " << w.text);
    // Codes are compared with the engine's names for them, not with numbers of the shader's own.
    const std::regex numbered_code(R"(code\s*[!=<>]=?\s*[0-9])");
    CHECK_MESSAGE(!std::regex_search(frag, numbered_code), "pagemap.frag compares a frame code with a number of its own");
}

TEST_CASE("no source of the lab writes a palette colour itself") {
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kRoot / "web")) {
        const std::string ext = entry.path().extension().string();
        if (ext != ".cpp" && ext != ".h") continue;
        ++files;
        for (const Written& w : colours_written(read_source(entry.path())))
            if (const FrameStyle* s = copies_palette(w))
                FAIL_CHECK(entry.path().filename().string() << " writes the colour of '" << std::string(s->name) << "' (use frame_colour): " << w.text);
    }
    CHECK(files > 0);
}
