// units.h: the units of cowlab's figures, in one table: what lesson files may
// write ("unit": "KiB", {expr|MiB}, "4 * MiB"), what each is worth in the
// quantity's own units (bytes, nanoseconds, counts) and how it is shown.
//
//   format_value(6144, "KiB")       == "6 KiB"      a value in bytes, shown in KiB
//   format_number(4170.4)           == "4,170"      never an exponent, thousands grouped
//   unit_factor("ms")               == 1e6          ns per ms: a guess in ms * this = ns
//   unit_value("MiB")               == 1048576      the constant an expression may use
//   format_measured(12.5, "us")     == "12.5 µs"    a value already in its unit (recordings)
//
// Display units (checkpoints, parameters, {expr|unit}) and expression
// constants are two columns of the same table: "pages" is a display unit,
// "page" the constant, both 4096 bytes.
#pragma once

#include <string>
#include <vector>

#include "types.h"

namespace cow {

struct Unit {
    const char* name;      // as lesson files write it
    const char* symbol;    // as people read it ("µs" for "us")
    double factor;         // the quantity's own units (bytes, ns, 1) in one of this
    bool display;          // may be a checkpoint's, a parameter's or a {expr|unit}'s unit
    bool constant;         // may be used in expressions ("4 * MiB")
};

// Every unit, display units in the order the docs list them.
const std::vector<Unit>& unit_table();
const Unit* find_unit(const std::string& name);

// "" (a plain number) or a display unit of the table.
bool valid_display_unit(const std::string& name);
// A number as the lab writes it in prose, sliders and tables: thousands
// grouped, never an exponent; whole from 100 up, else to three significant
// digits (12.3, 0.0123), a whole number as it is.
std::string format_number(double v);
// A number as a person types it: "1024", "1,024", " 2.5 ", "1e3", "-3". Not a
// number (empty, "12 KiB", "1..2", too long): false, `out` untouched.
bool parse_number(const std::string& text, double& out);
// A value in the quantity's own units, shown in `unit`: format_value(4096, "KiB") == "4 KiB".
// Below 100 of the unit, one decimal unless whole (below 0.1, three
// significant digits); no unit (or an unknown one): format_number.
std::string format_value(double v, const std::string& unit);
// A count with its thousands grouped: format_count(17179869184) == "17,179,869,184".
std::string format_count(u64 n);
// How many of the quantity's own units one `unit` is (1 for no or an unknown unit).
double unit_factor(const std::string& unit);
// The unit as shown: "µs" for "us", else the name itself.
const char* unit_symbol(const std::string& unit);
// KiB, MiB, GiB, TiB, page, PAGE_SIZE, HPAGE: the constants expressions may use.
Result<double> unit_value(const std::string& name);

// A value measured in `unit` itself (a recording's series): bytes as
// format_bytes does, a plain count whole, anything else to one decimal.
std::string format_measured(double v, const std::string& unit);
// A difference of two such values: bytes in pages, signed.
std::string format_difference(double d, const std::string& unit);

}  // namespace cow
