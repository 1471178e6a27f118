// lesson_window.cpp: LessonWindow (windows.h): the lesson: narrative,
// controls, parameters, and the predict-then-reveal checkpoints. Play only
// starts and stops here; its clock runs in App::update.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app.h"
#include "export.h"
#include "imgui.h"
#include "text.h"
#include "platform.h"

namespace cowlab {

namespace {

void report(App& app, const cow::Status& st) {
    if (!st) app.notices.push_back(st.message);
}

// A lesson's level as the picker and the card name it ("" for none).
const char* level_name(const std::string& level) {
    return level == "intro" ? "Introduction" : level == "intermediate" ? "Intermediate" : level == "advanced" ? "Advanced" : "";
}

// The checkpoints still waiting for a prediction for these values.
int not_locked_in(const std::vector<Player::CheckpointView>& cps) {
    int n = 0;
    for (const Player::CheckpointView& c : cps) n += !c.revealed && (!c.has_guess || c.for_other_values);
    return n;
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
    if (!app.gl_error.empty()) text_wrapped("%s", app.gl_error.c_str());
    if (!P.loaded()) {
        app.draw_notices();
        text_wrapped("No lesson is loaded.");
        return;
    }
    const cow::Lesson& L = P.lesson();
    if (drafts_lesson != L.id) {   // another lesson: its own predictions
        drafts.clear();
        drafts_lesson = L.id;
        nudged_step = -1;
    }
    if (!app.embed) {
        ImGui::SetNextItemWidth(-1);
        if (ImGui::BeginCombo("##lesson", L.title.c_str(), ImGuiComboFlags_HeightLarge)) {
            std::string level = "-";
            for (const LessonInfo& l : lessons) {   // in the course's order, under their level
                if (l.level != level) {
                    level = l.level;
                    ImGui::TextDisabled("%s", *level_name(level) ? level_name(level) : "Other lessons");
                }
                if (ImGui::Selectable(("  " + l.title).c_str(), l.id == L.id)) report(app, P.load(l.id, {}));
            }
            ImGui::EndCombo();
        }
    } else {
        text_wrapped("%s", L.title.c_str());
    }
    const int n = int(L.steps.size()), cur = P.current();
    const cow::LessonStep& step = L.steps[size_t(cur)];
    ImGui::Spacing();
    ImGui::TextDisabled("Step %d of %d", cur + 1, n);
    ImGui::SameLine();
    text_wrapped("%s", step.title.c_str());

    ImGui::BeginDisabled(P.busy());   // until the work is done
    draw_controls(app);
    ImGui::EndDisabled();
    // Below the controls, so that they never move: the work's progress and the notices.
    if (P.busy()) draw_busy(app);
    app.draw_notices();
    ImGui::Separator();
    ImGui::BeginDisabled(P.busy());

    if (cur == 0) draw_card(app);
    if (!step.setup.empty()) text_wrapped("%s", step.setup.c_str());   // what the questions build on

    // Predict, then reveal.
    const std::vector<Player::CheckpointView> cps = P.checkpoints();
    for (size_t i = 0; i < cps.size(); ++i) draw_checkpoint(app, int(i), cps[i]);
    const int open = not_locked_in(cps);
    if (!cps.empty() && !P.ran()) {
        ImGui::Spacing();
        if (nudged_step == cur && open > 0) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.45f, 1.0f));
            text_wrapped("%d of %zu predictions %s not locked in. Lock %s in, or press Run again to see the answer without %s.",
                               open, cps.size(), open == 1 ? "is" : "are", open == 1 ? "it" : "them", open == 1 ? "it" : "them");
            ImGui::PopStyleColor();
        } else {
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
            text_wrapped("Make your predictions and lock them in, then run the step.");
            ImGui::PopStyleColor();
        }
    }

    if (P.ran()) {
        ImGui::Spacing();
        text_wrapped("%s", P.narrative().c_str());
        for (const std::string& o : P.run().outcomes()) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.72f, 0.45f, 1.0f));
            text_wrapped("The kernel refused: %s", o.c_str());
            ImGui::PopStyleColor();
        }
    }
    if (!P.lesson_error().empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.45f, 0.45f, 1));
        text_wrapped("This step could not run: %s", P.lesson_error().c_str());
        ImGui::PopStyleColor();
    }
    if (P.at_end()) draw_recap(app);

    ImGui::EndDisabled();
    draw_params(app);   // a slider stays live: a new value cancels the work of the last
}

// Back / Run or Next / Reset / Play / Share / File, each as wide whatever it
// says, with keys Left, Right or Enter, R, Space.
void LessonWindow::draw_controls(App& app) {
    Player& P = app.player;
    const cow::Lesson& L = P.lesson();
    const int cur = P.current();
    ImGuiIO& io = ImGui::GetIO();
    const bool keys = !io.WantTextInput && !P.busy();
    auto pressed = [](ImGuiKey k) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(k), false); };   // a held key acts once
    bool typed_r = false, typed_space = false;   // outside a text field
    for (ImWchar c : io.InputQueueCharacters) {
        typed_r |= c == 'r' || c == 'R';
        typed_space |= c == ' ';
    }
    ImGui::BeginDisabled(cur == 0 && !P.ran());
    if (ImGui::Button("< Back") || (keys && pressed(ImGuiKey_LeftArrow))) {
        nudged_step = -1;
        report(app, P.back());
    }
    app.note_control("back");
    ImGui::EndDisabled();
    const float next_w = button_width({"Run this step >", "Next step >", "Next lesson >", "End of course"});
    same_line_if_room(next_w);
    const LessonInfo* after = next_lesson(L.id);
    const char* next_label = !P.ran() ? "Run this step >" : !P.at_end() ? "Next step >" : after ? "Next lesson >" : "End of course";
    ImGui::BeginDisabled(P.at_end() && !after);
    if (ImGui::Button(next_label, ImVec2(next_w, 0)) ||
        (keys && !P.at_end() && (pressed(ImGuiKey_RightArrow) || pressed(ImGuiKey_Enter)))) {
        const int open = P.ran() ? 0 : not_locked_in(P.checkpoints());
        if (P.at_end()) {
            report(app, P.load(after->id, {}));
        } else if (open > 0 && nudged_step != cur) {
            nudged_step = cur;   // once: the next press runs it
        } else {
            nudged_step = -1;
            report(app, P.next());
        }
    }
    app.note_control("next");
    ImGui::EndDisabled();
    same_line_if_room(button_width({"Reset"}));
    if (ImGui::Button("Reset") || (keys && typed_r)) {
        app.playing = false;
        nudged_step = -1;
        report(app, P.reset());
    }
    same_line_if_room(button_width({"Pause", "Play"}));
    if (ImGui::Button(app.playing ? "Pause" : "Play", ImVec2(button_width({"Pause", "Play"}), 0)) || (keys && typed_space)) {
        app.playing = !app.playing && !P.at_end();
        app.play_clock = 0;
    }
    if (!app.embed) {
        same_line_if_room(button_width({"Share"}));
        if (ImGui::Button("Share")) share(app);
        same_line_if_room(button_width({"File"}));
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
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
    text_wrapped("keys: Right/Enter next, Left back, Space play, R reset");
    ImGui::PopStyleColor();
}

// One checkpoint: the question; before the reveal, the prediction being made
// or the one locked in; after it, the guess beside the engine's answer and why.
void LessonWindow::draw_checkpoint(App& app, int i, const Player::CheckpointView& c) {
    Player& P = app.player;
    const int cur = P.current();
    Draft& d = drafts[{cur, i}];
    const ImVec4 kAsk(0.55f, 0.8f, 1.0f, 1.0f), kRight(0.45f, 0.9f, 0.5f, 1), kWrong(1, 0.5f, 0.45f, 1), kOther(1.0f, 0.85f, 0.45f, 1.0f);
    ImGui::PushID(i);
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, kAsk);
    text_wrapped("Predict: %s", c.question.c_str());
    ImGui::PopStyleColor();
    const bool locked = c.has_guess && !c.for_other_values;
    const bool editing = !c.revealed && !locked;
    const char* unit = cow::unit_symbol(c.unit);
    const float lock_w = button_width({"Lock in"});

    if (c.has_guess && c.for_other_values) {
        ImGui::PushStyleColor(ImGuiCol_Text, kOther);
        text_wrapped("Your prediction, %s, was for other values (%s).%s", c.guess_text.c_str(), c.guess_params.c_str(),
                           c.revealed ? "" : " Predict again for these:");
        ImGui::PopStyleColor();
    }
    if (c.kind == "choice") {
        for (size_t k = 0; k < c.choices.size(); ++k) {
            const bool guessed = c.has_guess && int(c.guess) == int(k);
            bool on = editing ? d.choice == int(k) : guessed && locked;
            ImGui::BeginDisabled(!editing);
            if (ImGui::RadioButton(c.choices[k].c_str(), on)) d.choice = int(k);
            ImGui::EndDisabled();
            if (c.revealed && int(c.answer) == int(k) && c.error.empty()) {
                const char* mark = "\u2713 the engine's answer";
                same_line_if_room(ImGui::CalcTextSize(mark).x);   // else on a line of its own
                ImGui::PushStyleColor(ImGuiCol_Text, kRight);
                ImGui::TextUnformatted(mark);
                ImGui::PopStyleColor();
            }
        }
        if (editing) {
            ImGui::BeginDisabled(d.choice < 0);
            if (ImGui::Button("Lock in", ImVec2(lock_w, 0))) report(app, P.answer(i, double(d.choice)));
            ImGui::EndDisabled();
            app.note_control("lock:" + std::to_string(i));
        }
    } else if (editing) {
        ImGui::SetNextItemWidth(160);
        const bool enter = ImGui::InputTextWithHint("##guess", "your guess", d.text, sizeof d.text,
                                                    ImGuiInputTextFlags_EnterReturnsTrue);
        app.note_control("guess:" + std::to_string(i));
        ImGui::SameLine();
        ImGui::TextUnformatted(unit);
        ImGui::SameLine();
        double v = 0;
        const bool valid = cow::parse_number(d.text, v);
        ImGui::BeginDisabled(!valid);
        if (ImGui::Button("Lock in", ImVec2(lock_w, 0)) || (enter && valid)) report(app, P.answer(i, v * cow::unit_factor(c.unit)));
        ImGui::EndDisabled();
        app.note_control("lock:" + std::to_string(i));
        if (d.text[0] && !valid) ImGui::TextDisabled("Type a number, such as 1024 or 1,024.");
    } else if (locked) {
        ImGui::Text("Your prediction: %s", c.guess_text.c_str());
    }
    if (locked && !c.revealed) {
        if (c.kind != "choice") ImGui::SameLine();
        if (ImGui::SmallButton("Change")) {
            if (c.kind == "choice") d.choice = int(c.guess);
            else std::snprintf(d.text, sizeof d.text, "%s", cow::format_number(c.guess / cow::unit_factor(c.unit)).c_str());
            report(app, P.withdraw(i));
        }
        app.note_control("change:" + std::to_string(i));
    }

    if (c.revealed) {
        if (!c.error.empty()) {
            text_wrapped("The engine could not answer: %s", c.error.c_str());
        } else {
            const char* verdict = !c.has_guess ? "You made no prediction." : c.for_other_values ? "" : c.right ? "Right." : "Not quite.";
            ImGui::PushStyleColor(ImGuiCol_Text, !locked ? ImVec4(0.85f, 0.85f, 0.85f, 1) : c.right ? kRight : kWrong);
            text_wrapped("%s The engine says: %s", verdict, c.answer_text.c_str());
            ImGui::PopStyleColor();
            text_wrapped("%s", c.explain.c_str());
        }
    }
    ImGui::PopID();
}

// At the first step: what the lesson is about, its level, how long it is and
// what it will ask (the summary is read before the first prediction).
void LessonWindow::draw_card(App& app) {
    const cow::Lesson& L = app.player.lesson();
    size_t asked = 0;
    for (const cow::LessonStep& st : L.steps) asked += st.checkpoints.size();
    // Text on top, its box drawn under it once its size is known.
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->ChannelsSplit(2);
    dl->ChannelsSetCurrent(1);
    const float pad = ImGui::GetStyle().FramePadding.x;
    ImGui::Indent(pad);
    ImGui::Dummy(ImVec2(0, pad * 0.5f));
    ImGui::BeginGroup();
    ImGui::PushTextWrapPos(ImGui::GetCursorPos().x + ImGui::GetContentRegionAvail().x - pad);
    const std::string level = level_name(L.level);
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.55f, 0.8f, 1.0f, 1.0f));
    text_wrapped("%s%s%zu steps; you will predict %zu figure%s before the engine shows %s.", level.c_str(),
                 level.empty() ? "" : " \u2014 ", L.steps.size(), asked, asked == 1 ? "" : "s", asked == 1 ? "it" : "them");
    ImGui::PopStyleColor();
    text_wrapped("%s", L.summary.c_str());
    ImGui::PopTextWrapPos();
    ImGui::EndGroup();
    ImGui::Unindent(pad);
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    dl->ChannelsSetCurrent(0);
    dl->AddRectFilled(ImVec2(a.x - pad, a.y - pad * 0.5f), ImVec2(ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x, b.y + pad * 0.5f),
                      IM_COL32(40, 52, 72, 255), 4.0f);
    dl->ChannelsMerge();
    ImGui::Dummy(ImVec2(0, pad * 0.5f));
}

// The lesson in the course after this one (nullptr: the last).
const LessonInfo* LessonWindow::next_lesson(const std::string& id) const {
    for (size_t i = 0; i + 1 < lessons.size(); ++i)
        if (lessons[i].id == id) return &lessons[i + 1];
    return nullptr;
}

// At the last step: every prediction beside the engine's answer, the score, and what comes next.
void LessonWindow::draw_recap(App& app) {
    const Player& P = app.player;
    const Player::Recap r = P.recap();
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextUnformatted("Recap");
    if (r.asked == 0) {
        text_wrapped("This lesson asked no predictions.");
    } else {
        text_wrapped("You predicted %d of %d; %d right.", r.guessed, r.asked, r.right);
        const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
        if (ImGui::BeginTable("recap", 4, flags)) {
            ImGui::TableSetupColumn("step", ImGuiTableColumnFlags_WidthFixed);
            ImGui::TableSetupColumn("question", ImGuiTableColumnFlags_WidthStretch, 3.0f);
            ImGui::TableSetupColumn("you", ImGuiTableColumnFlags_WidthStretch, 1.2f);
            ImGui::TableSetupColumn("engine", ImGuiTableColumnFlags_WidthStretch, 1.2f);
            ImGui::TableHeadersRow();
            for (const Player::RecapItem& it : r.items) {
                const Player::CheckpointView& v = it.view;
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::Text("%d", it.step + 1);
                ImGui::TableNextColumn();
                text_wrapped("%s", v.question.c_str());
                ImGui::TableNextColumn();
                const std::string mine = !v.has_guess ? "-" : v.guess_text + (v.for_other_values ? " (for " + v.guess_params + ")" : "");
                const ImVec4 colour = !v.has_guess || v.for_other_values ? ImVec4(0.7f, 0.7f, 0.7f, 1)
                                      : v.right ? ImVec4(0.45f, 0.9f, 0.5f, 1) : ImVec4(1, 0.5f, 0.45f, 1);
                ImGui::PushStyleColor(ImGuiCol_Text, colour);
                text_wrapped("%s%s", v.has_guess && !v.for_other_values ? (v.right ? "\u2713 " : "\u2717 ") : "", mine.c_str());
                ImGui::PopStyleColor();
                ImGui::TableNextColumn();
                text_wrapped("%s", !v.revealed ? "-" : v.error.empty() ? v.answer_text.c_str() : "could not answer");
            }
            ImGui::EndTable();
        }
    }
    if (const LessonInfo* n = next_lesson(P.lesson().id)) text_wrapped("Next in the course: %s. %s", n->title.c_str(), n->summary.c_str());
    else text_wrapped("This is the last lesson of the course.");
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
    text_wrapped("%s", what.c_str());
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
    auto apply = [&](const std::string& name, double value) {
        if (P.busy()) P.cancel();
        report(app, P.set_param(name, value));
    };
    for (const cow::LessonParam& p : L.params) {
        const double v = P.params().at(p.name);
        ImGui::PushID(p.name.c_str());
        if (p.kind == "boolean") {   // a checkbox, applied at once
            bool on = v != 0;
            if (ImGui::Checkbox(p.label.c_str(), &on)) apply(p.name, on ? 1 : 0);
            app.note_control("param:" + p.name);
            ImGui::PopID();
            continue;
        }
        if (p.kind == "choice") {   // the label, then one radio button for each value
            text_wrapped("%s:", p.label.c_str());
            for (size_t k = 0; k < p.choices.size(); ++k) {
                if (k) same_line_if_room(ImGui::GetFrameHeight() + ImGui::CalcTextSize(p.choices[k].c_str()).x + 8);
                if (ImGui::RadioButton(p.choices[k].c_str(), int(v) == int(k)) && int(v) != int(k)) apply(p.name, double(k));
                app.note_control("param:" + p.name + ":" + std::to_string(k));
            }
            ImGui::PopID();
            continue;
        }
        const bool mine = pending.param == p.name;
        float fv = float(mine ? pending.value : v);
        // The value as the lab writes numbers ("500,000", "4 KiB"), not printf's "%g" ("5e+05").
        std::string fmt;
        for (char ch : cow::format_param(p, mine ? pending.value : v)) fmt += ch == '%' ? std::string("%%") : std::string(1, ch);
        ImGui::SetNextItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x * 0.5f));
        if (ImGui::SliderFloat("##value", &fv, float(p.min), float(p.max), fmt.c_str())) {
            double nv = std::clamp(std::round(double(fv) / p.step) * p.step, p.min, p.max);
            if (!mine || nv != pending.value) pending = {p.name, nv, 0};
        }
        const bool released = ImGui::IsItemDeactivated();
        app.note_control("param:" + p.name);
        if (pending.param == p.name) {
            pending.still_s += dt;
            if (released || pending.still_s >= kApplyAfterS) {
                if (pending.value != v) apply(p.name, pending.value);
                if (released) pending = {};
                else pending.still_s = -1e9;   // applied; held still, it is not applied again
            }
        }
        ImGui::SameLine();
        text_wrapped("%s", p.label.c_str());
        ImGui::PopID();
    }
}

}  // namespace cowlab
