// export.cpp: CSV, JSON and PNG out of the lab.
#include "export.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

#include "gl.h"
#include "platform.h"
#include "report.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_WINDOWS_UTF8 0
#include <stb/stb_image_write.h>


namespace cowlab {

namespace {
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace

std::string metrics_csv(const Player& p) {
    std::string out = "step,step_title,process,pid,rss,pss,uss,shared,private_dirty,min_flt,cow_copies,"
                      "machine_used,machine_anon,machine_page_tables,committed_as\n";
    if (!p.loaded()) return out;
    for (const Player::StepRecord& r : p.history()) {
        const cow::StepMetrics& s = r.metrics;
        const std::string title = csv_field(p.lesson().steps[size_t(s.step)].title);
        for (const cow::ProcMetrics& q : s.procs) {
            const cow::u64 v[] = {q.mem.rss, q.mem.pss(), q.mem.uss(), q.mem.shared(), q.mem.private_dirty,
                                  q.counters.min_flt, q.counters.cow_copies, s.meminfo.used, s.meminfo.anon_pages,
                                  s.meminfo.page_tables, s.meminfo.committed_as};
            for (const std::string& f : {std::to_string(s.step + 1), title, csv_field(q.name), std::to_string(q.pid.v)}) {
                out += f;
                out += ',';
            }
            for (cow::u64 x : v) {
                out += std::to_string(x);
                out += ',';
            }
            out.pop_back();
            out += "\n";
        }
    }
    return out;
}

// The state, the current metrics and every step's run so far, each in the shape the page's API returns.
std::string metrics_json(const Player& p) {
    const nlohmann::json metrics = p.loaded() ? cow::metrics_json(p.metrics()) : nlohmann::json::object();
    return cow::dump_json({{"state", p.state()}, {"metrics", metrics}, {"history", p.history_json()}}, 2);
}

std::string save_text(const std::string& filename, const std::string& mime, const std::string& text) {
    return platform::save_file(filename, mime, reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

std::string save_framebuffer_png(int w, int h, const std::string& filename) {
    if (w <= 0 || h <= 0 || w > 16384 || h > 16384) return "nothing to capture";
    std::vector<unsigned char> pixels(size_t(w) * size_t(h) * 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
    for (unsigned char* a = pixels.data() + 3; a < pixels.data() + pixels.size(); a += 4) *a = 255;   // opaque
    std::vector<unsigned char> png;
    stbi_flip_vertically_on_write(1);   // GL rows run bottom-up
    auto sink = [](void* ctx, void* data, int size) {
        auto* out = static_cast<std::vector<unsigned char>*>(ctx);
        const auto* bytes = static_cast<const unsigned char*>(data);
        out->insert(out->end(), bytes, bytes + size);
    };
    if (!stbi_write_png_to_func(sink, &png, w, h, 4, pixels.data(), w * 4)) return "could not encode the PNG";
    return platform::save_file(filename, "image/png", png.data(), png.size());
}

}  // namespace cowlab
