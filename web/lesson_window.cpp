// lesson_window.cpp: LessonWindow (windows.h): the lesson: narrative,
// controls, parameters, and the predict-then-reveal checkpoints. Play only
// starts and stops here; its clock runs in App::update.
#include <algorithm>
#include <cmath>

#include "app.h"
#include "export.h"
#include "imgui.h"
#include "platform.h"

namespace cowlab {

namespace {

void report(App& app, const cow::Status& st) {
    if (!st) app.notices.push_back(st.message);
}

void share(App& app) {
    const std::string q = app.player.share_query();
    platform::share_link(q);
    ImGui::SetClipboardText(q.c_str());
    app.notices.push_back("Link to this step: " + q);
}

}  // namespace

void LessonWindow::draw(App& app) {
    Player& P = app.player;
    app.draw_notices();
    if (!app.gl_error.empty()) ImGui::TextWrapped("%s", app.gl_error.c_str());
    if (!P.loaded()) {
        ImGui::TextWrapped("No lesson is loaded.");
        return;
    }
    const cow::Lesson& L = P.lesson();
    if (!app.embed) {
        ImGui::SetNextItemWidth(-1);
        if (ImGui::BeginCombo("##lesson", L.title.c_str())) {
            for (const LessonInfo& l : lessons)
                if (ImGui::Selectable(l.title.c_str(), l.id == L.id)) report(app, P.load(l.id, {}));
            ImGui::EndCombo();
        }
    } else {
        ImGui::TextWrapped("%s", L.title.c_str());
    }
    const int n = int(L.steps.size()), cur = P.current();
    const cow::LessonStep& step = L.steps[size_t(cur)];
    ImGui::Spacing();
    ImGui::TextDisabled("Step %d of %d", cur + 1, n);
    ImGui::SameLine();
    ImGui::TextUnformatted(step.title.c_str());

    // Controls: Back / Run or Next / Reset / Share, with keys Left, Right or Enter, R.
    ImGuiIO& io = ImGui::GetIO();
    const bool keys = !io.WantTextInput;
    auto pressed = [](ImGuiKey k) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(k)); };
    bool typed_r = false;   // 'r' typed outside a text field
    for (ImWchar c : io.InputQueueCharacters) typed_r |= c == 'r' || c == 'R';
    ImGui::BeginDisabled(cur == 0 && !P.ran());
    if (ImGui::Button("< Back") || (keys && pressed(ImGuiKey_LeftArrow))) report(app, P.back());
    ImGui::EndDisabled();
    ImGui::SameLine();
    const char* next_label = !P.ran() ? "Run this step >" : P.at_end() ? "End of lesson" : "Next step >";
    ImGui::BeginDisabled(P.at_end());
    if (ImGui::Button(next_label) || (keys && !P.at_end() && (pressed(ImGuiKey_RightArrow) || pressed(ImGuiKey_Enter))))
        report(app, P.next());
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Reset") || (keys && typed_r)) {
        app.playing = false;
        report(app, P.reset());
    }
    ImGui::SameLine();
    bool typed_space = false;
    for (ImWchar c : io.InputQueueCharacters) typed_space |= c == ' ';
    if (ImGui::Button(app.playing ? "Pause" : "Play") || (keys && typed_space)) {
        app.playing = !app.playing && !P.at_end();
        app.play_clock = 0;
    }
    if (!app.embed) {
        ImGui::SameLine();
        if (ImGui::Button("Share")) share(app);
        ImGui::SameLine();
        if (ImGui::Button("File")) ImGui::OpenPopup("file");
        if (ImGui::BeginPopup("file")) {
            if (ImGui::Selectable("Open a recording...")) app.pick_recording();
            ImGui::Separator();
            ImGui::TextDisabled("Export");
            if (ImGui::Selectable("Metrics as CSV")) app.notices.push_back(save_text("cowlab-" + L.id + ".csv", "text/csv", metrics_csv(P)));
            if (ImGui::Selectable("Metrics as JSON")) app.notices.push_back(save_text("cowlab-" + L.id + ".json", "application/json", metrics_json(P)));
            if (ImGui::Selectable("This view as PNG")) app.capture_requested = true;
            if (ImGui::Selectable("Copy the link to this step")) share(app);
            ImGui::EndPopup();
        }
    }
    ImGui::TextDisabled("keys: Right/Enter next, Left back, Space play, R reset");
    ImGui::Separator();

    if (cur == 0 && !P.ran()) ImGui::TextWrapped("%s", L.summary.c_str());

    // Predict, then reveal.
    const std::vector<Player::CheckpointView> cps = P.checkpoints();
    for (size_t i = 0; i < cps.size(); ++i) {
        const Player::CheckpointView& c = cps[i];
        ImGui::PushID(int(i));
        ImGui::Spacing();
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.55f, 0.8f, 1.0f, 1.0f));
        ImGui::TextWrapped("Predict: %s", c.question.c_str());
        ImGui::PopStyleColor();
        if (c.kind == "choice") {
            for (size_t k = 0; k < c.choices.size(); ++k) {
                bool on = c.has_guess && int(c.guess) == int(k);
                ImGui::BeginDisabled(c.revealed);
                if (ImGui::RadioButton(c.choices[k].c_str(), on)) report(app, P.answer(int(i), double(k)));
                ImGui::EndDisabled();
            }
        } else {
            const double f = cow::unit_factor(c.unit);
            double shown = c.has_guess ? c.guess / f : 0.0;
            ImGui::SetNextItemWidth(160);
            ImGui::BeginDisabled(c.revealed);
            if (ImGui::InputDouble("##guess", &shown, 0, 0, "%.6g")) report(app, P.answer(int(i), shown * f));
            ImGui::EndDisabled();
            ImGui::SameLine();
            ImGui::TextUnformatted(cow::unit_symbol(c.unit));
        }
        if (c.revealed) {
            if (!c.error.empty()) {
                ImGui::TextWrapped("The engine could not answer: %s", c.error.c_str());
            } else {
                const ImVec4 colour = !c.has_guess ? ImVec4(0.85f, 0.85f, 0.85f, 1) : c.right ? ImVec4(0.45f, 0.9f, 0.5f, 1) : ImVec4(1, 0.5f, 0.45f, 1);
                ImGui::PushStyleColor(ImGuiCol_Text, colour);
                ImGui::TextWrapped("%s The engine says: %s", !c.has_guess ? "" : c.right ? "Right." : "Not quite.", c.answer_text.c_str());
                ImGui::PopStyleColor();
                ImGui::TextWrapped("%s", c.explain.c_str());
            }
        }
        ImGui::PopID();
    }
    if (!cps.empty() && !P.ran()) {
        ImGui::Spacing();
        ImGui::TextDisabled("Make your predictions, then run the step.");
    }

    if (P.ran()) {
        ImGui::Spacing();
        ImGui::TextWrapped("%s", P.narrative().c_str());
        for (const std::string& o : P.run().outcomes()) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.72f, 0.45f, 1.0f));
            ImGui::TextWrapped("The kernel refused: %s", o.c_str());
            ImGui::PopStyleColor();
        }
    }
    if (!P.lesson_error().empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.45f, 0.45f, 1));
        ImGui::TextWrapped("This step could not run: %s", P.lesson_error().c_str());
        ImGui::PopStyleColor();
    }

    if (!L.params.empty() && ImGui::CollapsingHeader("Parameters", ImGuiTreeNodeFlags_DefaultOpen)) {
        for (const cow::LessonParam& p : L.params) {
            double v = P.params().at(p.name);
            float fv = float(v);
            std::string fmt = "%g " + p.unit;
            ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x * 0.5f));
            if (ImGui::SliderFloat(("##" + p.name).c_str(), &fv, float(p.min), float(p.max), fmt.c_str())) {
                double nv = std::round(double(fv) / p.step) * p.step;
                nv = std::clamp(nv, p.min, p.max);
                if (nv != v) report(app, P.set_param(p.name, nv));
            }
            ImGui::SameLine();
            ImGui::TextWrapped("%s", p.label.c_str());
        }
    }
}

}  // namespace cowlab
