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

    if (P.busy()) draw_busy(app);
    ImGui::BeginDisabled(P.busy());   // until the work is done

    // Controls: Back / Run or Next / Reset / Share, with keys Left, Right or Enter, R.
    ImGuiIO& io = ImGui::GetIO();
    const bool keys = !io.WantTextInput && !P.busy();
    auto pressed = [](ImGuiKey k) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(k)); };
    bool typed_r = false;   // 'r' typed outside a text field
    for (ImWchar c : io.InputQueueCharacters) typed_r |= c == 'r' || c == 'R';
    ImGui::BeginDisabled(cur == 0 && !P.ran());
    if (ImGui::Button("< Back") || (keys && pressed(ImGuiKey_LeftArrow))) report(app, P.back());
    app.note_control("back");
    ImGui::EndDisabled();
    ImGui::SameLine();
    const char* next_label = !P.ran() ? "Run this step >" : P.at_end() ? "End of lesson" : "Next step >";
    ImGui::BeginDisabled(P.at_end());
    if (ImGui::Button(next_label) || (keys && !P.at_end() && (pressed(ImGuiKey_RightArrow) || pressed(ImGuiKey_Enter))))
        report(app, P.next());
    app.note_control("next");
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

    ImGui::EndDisabled();
    draw_params(app);   // a slider stays live: a new value cancels the work of the last
}

// While the player works (sliced between frames): which step, how far, and Cancel.
// The bar appears once the work has taken 0.2 s; the controls wait until it is done.
void LessonWindow::draw_busy(App& app) {
    Player& P = app.player;
    const Player::Progress pr = P.progress();
    if (pr.seconds < 0.2) return;
    const cow::Lesson& L = P.lesson();
    std::string what = "Measuring the machine after the step";   // between steps: the figures and a snapshot
    if (pr.step >= 0 && pr.step < int(L.steps.size()))
        what = "Running step " + std::to_string(pr.step + 1) + ": " + L.steps[size_t(pr.step)].title;
    ImGui::TextWrapped("%s", what.c_str());
    char overlay[64];
    std::snprintf(overlay, sizeof overlay, "%.0f %%  %.1f s", pr.fraction * 100, pr.seconds);
    ImGui::ProgressBar(float(pr.fraction), ImVec2(-ImGui::CalcTextSize("Cancel").x - ImGui::GetStyle().FramePadding.x * 4, 0), overlay);
    ImGui::SameLine();
    const bool cancel = ImGui::Button("Cancel");
    app.note_control("cancel");
    if (cancel || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
        app.playing = false;
        P.cancel();
        pending = {};
    }
}

void LessonWindow::draw_params(App& app) {
    Player& P = app.player;
    const cow::Lesson& L = P.lesson();
    if (L.params.empty() || !ImGui::CollapsingHeader("Parameters", ImGuiTreeNodeFlags_DefaultOpen)) return;
    const double dt = ImGui::GetIO().DeltaTime;
    for (const cow::LessonParam& p : L.params) {
        const double v = P.params().at(p.name);
        const bool mine = pending.param == p.name;
        float fv = float(mine ? pending.value : v);
        std::string fmt = "%g " + p.unit;
        ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x * 0.5f));
        if (ImGui::SliderFloat(("##" + p.name).c_str(), &fv, float(p.min), float(p.max), fmt.c_str())) {
            double nv = std::clamp(std::round(double(fv) / p.step) * p.step, p.min, p.max);
            if (!mine || nv != pending.value) pending = {p.name, nv, 0};
        }
        const bool released = ImGui::IsItemDeactivated();
        app.note_control("param:" + p.name);
        if (pending.param == p.name) {
            pending.still_s += dt;
            if (released || pending.still_s >= kApplyAfterS) {
                if (pending.value != v) {
                    if (P.busy()) P.cancel();
                    report(app, P.set_param(p.name, pending.value));
                }
                if (released) pending = {};
                else pending.still_s = -1e9;   // applied; held still, it is not applied again
            }
        }
        ImGui::SameLine();
        ImGui::TextWrapped("%s", p.label.c_str());
    }
}

}  // namespace cowlab
