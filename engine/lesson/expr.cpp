// expr.cpp: a recursive-descent evaluator for lesson expressions.
#include "expr.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace cow {

namespace {

class Parser {
public:
    Parser(const std::string& s, const ExprEnv& env) : s_(s), env_(env) {}

    Result<double> parse() {
        if (s_.size() > 4096) return fail(Errc::limit, "expression longer than 4096 characters");
        Result<double> v = expr();
        if (!v) return v;
        skip();
        if (i_ != s_.size()) return error("unexpected '" + std::string(1, s_[i_]) + "'");
        if (!std::isfinite(*v)) return error("the result is not a finite number");
        return v;
    }

private:
    Status error(const std::string& what) const {
        return fail(Errc::invalid_argument, "in \"" + s_ + "\" at " + std::to_string(i_ + 1) + ": " + what);
    }
    void skip() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool eat(char c) {
        skip();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    Result<double> expr() {
        Result<double> a = term();
        if (!a) return a;
        double v = *a;
        for (;;) {
            if (eat('+')) {
                Result<double> b = term();
                if (!b) return b;
                v += *b;
            } else if (eat('-')) {
                Result<double> b = term();
                if (!b) return b;
                v -= *b;
            } else {
                return v;
            }
        }
    }
    Result<double> term() {
        Result<double> a = unary();
        if (!a) return a;
        double v = *a;
        for (;;) {
            char op = 0;
            if (eat('*')) op = '*';
            else if (eat('/')) op = '/';
            else if (eat('%')) op = '%';
            else return v;
            Result<double> b = unary();
            if (!b) return b;
            if (op == '*') {
                v *= *b;
            } else {
                if (*b == 0) return error(op == '/' ? "division by zero" : "remainder by zero");
                v = op == '/' ? v / *b : std::fmod(v, *b);
            }
        }
    }
    Result<double> unary() {
        if (++depth_ > 64) return error("nested too deeply");
        Result<double> r = eat('-') ? negate(unary()) : eat('+') ? unary() : primary();
        --depth_;
        return r;
    }
    static Result<double> negate(Result<double> r) {
        if (!r) return r;
        return -*r;
    }
    Result<double> primary() {
        skip();
        if (i_ >= s_.size()) return error("expected a value");
        if (eat('(')) {
            Result<double> v = expr();
            if (!v) return v;
            if (!eat(')')) return error("expected ')'");
            return v;
        }
        const char c = s_[i_];
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            const char* start = s_.c_str() + i_;
            char* end = nullptr;
            double v = std::strtod(start, &end);
            if (end == start) return error("malformed number");
            i_ += size_t(end - start);
            return v;
        }
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            std::string name = ident();
            if (!eat('(')) {
                Result<double> v = env_.lookup(name);
                if (!v) return error(v.message());
                return v;
            }
            std::vector<ExprArg> args;
            if (!eat(')')) {
                for (;;) {
                    ExprArg arg;
                    skip();
                    const size_t save = i_;
                    std::string bare;   // a bare name starts with a letter or '_'
                    if (i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) bare = ident();
                    skip();
                    if (!bare.empty() && i_ < s_.size() && (s_[i_] == ',' || s_[i_] == ')')) {
                        arg.is_name = true;
                        arg.name = bare;
                    } else {
                        i_ = save;
                        Result<double> v = expr();
                        if (!v) return v;
                        arg.value = *v;
                    }
                    args.push_back(arg);
                    if (eat(')')) break;
                    if (!eat(',')) return error("expected ',' or ')' in the arguments of " + name);
                }
            }
            Result<double> v = env_.call(name, args);
            if (!v) return error(v.message());
            return v;
        }
        return error("unexpected '" + std::string(1, c) + "'");
    }
    std::string ident() {
        size_t b = i_;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '.'))
            ++i_;
        return s_.substr(b, i_ - b);
    }

    const std::string& s_;
    const ExprEnv& env_;
    size_t i_ = 0;
    int depth_ = 0;
};

}  // namespace

Result<double> eval_expr(const std::string& text, const ExprEnv& env) { return Parser(text, env).parse(); }

std::vector<ExprCall> calls_in(const std::string& text) {
    // Every name is 1 and every call returns 1, so that each argument and branch is evaluated.
    struct Recorder : ExprEnv {
        mutable std::vector<ExprCall> calls;
        Result<double> lookup(const std::string&) const override { return 1.0; }
        Result<double> call(const std::string& fn, const std::vector<ExprArg>& args) const override {
            calls.push_back({fn, args});
            return 1.0;
        }
    } env;
    (void)eval_expr(text, env);   // a value that is not finite (1 / (a - 1)) still made its calls
    return env.calls;
}

}  // namespace cow
