// expr.h: the small arithmetic language of lesson files.
//
//   "array_mib * MiB"            a parameter times a unit
//   "pages(buf) / 10"            a function of a named region
//   "private_dirty(child, buf)"  a query of the engine
//   "(a + b) % 7", "-2", "1.5e3"
//
// Numbers, names, + - * / %, parentheses and calls f(arg, ...). An argument
// that is a bare name reaches the function as a name (a process, a region);
// anything else is evaluated to a number first. Errors say where and why.
#pragma once

#include <string>
#include <vector>

#include "types.h"

namespace cow {

struct ExprArg {
    bool is_name = false;
    std::string name;     // when is_name
    double value = 0;     // otherwise
};

// What names and functions mean: supplied by the caller.
class ExprEnv {
public:
    virtual ~ExprEnv() = default;
    virtual Result<double> lookup(const std::string& name) const = 0;
    virtual Result<double> call(const std::string& fn, const std::vector<ExprArg>& args) const = 0;
};

Result<double> eval_expr(const std::string& text, const ExprEnv& env);

// The calls an expression makes, every branch of it, in order: "ifelse(gt(
// cow_copies(parent), 0), 1, 0)" makes ifelse, gt and cow_copies(parent).
// What a checkpoint asks, so that the lab can keep it off the screen until
// the reveal. An expression that does not parse makes those before the error.
struct ExprCall {
    std::string fn;
    std::vector<ExprArg> args;
};
std::vector<ExprCall> calls_in(const std::string& text);

}  // namespace cow
