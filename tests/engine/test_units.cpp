// Units: one table, and the functions that format and scale with it.
#include "lab.h"
#include "units.h"

using namespace test;

TEST_CASE("a value in its own units is shown in a display unit, scaled by the unit's factor") {
    CHECK(format_value(4096, "KiB") == "4 KiB");
    CHECK(format_value(1536, "KiB") == "1.5 KiB");
    CHECK(format_value(3 * double(MiB), "MiB") == "3 MiB");
    CHECK(format_value(8192, "pages") == "2 pages");
    CHECK(format_value(2500, "us") == "2.5 µs");
    CHECK(format_value(0.25, "%") == "25 %");
    CHECK(format_value(123456, "B") == "123,456 B");   // 100 or more: no decimals, thousands grouped
    CHECK(format_value(4170.4e3, "us") == "4,170 µs");
    CHECK(format_value(1, "KiB") == "0.000977 KiB");
    CHECK(format_value(3, "") == "3");
    CHECK(format_value(0.12345, "") == "0.123");
    CHECK(format_value(7, "furlongs") == "7");         // an unknown unit: the number itself
    for (const Unit& u : unit_table())
        if (u.display) CHECK(format_value(3 * u.factor, u.name) == std::string("3 ") + u.symbol);
}

TEST_CASE("display units and expression constants are two columns of the one table") {
    CHECK(valid_display_unit(""));
    CHECK(valid_display_unit("KiB"));
    CHECK(valid_display_unit("pages"));
    CHECK(!valid_display_unit("page"));
    CHECK(!valid_display_unit("TiB"));
    CHECK(!valid_display_unit("furlong"));
    CHECK(*unit_value("MiB") == double(MiB));
    CHECK(*unit_value("page") == double(kPageSize));
    CHECK(*unit_value("HPAGE") == double(kHugeSize));
    CHECK(unit_value("pages").message() == "unknown name 'pages'");
    CHECK(unit_value("ms").message() == "unknown name 'ms'");
    CHECK(unit_factor("ms") == 1e6);
    CHECK(unit_factor("pages") == double(kPageSize));
    CHECK(unit_factor("") == 1);
    CHECK(unit_factor("HPAGE") == 1);   // not a display unit
    CHECK(std::string(unit_symbol("us")) == "µs");
    CHECK(std::string(unit_symbol("MB/s")) == "MB/s");
    for (const Unit& u : unit_table()) {
        CHECK(find_unit(u.name) == &u);   // names are unique
        CHECK((u.display || u.constant));
        CHECK(u.factor > 0);
    }
}

TEST_CASE("a measured value is shown in its own unit; a difference of bytes in pages") {
    CHECK(format_measured(12.5, "us") == "12.5 µs");
    CHECK(format_measured(2048, "B") == "2 KiB");
    CHECK(format_measured(-5, "B") == "0 B");
    CHECK(format_measured(3.7, "") == "4");
    CHECK(format_measured(3.25, "ms") == "3.2 ms");
    CHECK(format_difference(8192, "B") == "+2 pages");
    CHECK(format_difference(-3, "") == "-3");
    CHECK(format_difference(1.5, "us") == "+1.5 µs");
}

TEST_CASE("a count is shown with its thousands grouped") {
    CHECK(format_number(4170.4) == "4,170");
    CHECK(format_number(2e6) == "2,000,000");
    CHECK(format_number(-1234567) == "-1,234,567");
    CHECK(format_number(12.345) == "12.3");
    CHECK(format_number(0.012345) == "0.0123");
    CHECK(format_number(0.5) == "0.5");
    CHECK(format_number(99.96) == "100");
    CHECK(format_number(1e-20) == "0");
    CHECK(format_number(-0.0) == "0");
    CHECK(format_number(1e300).find('e') == std::string::npos);
    for (const auto& [text, v] : std::vector<std::pair<std::string, double>>{
             {"1024", 1024}, {"1,024", 1024}, {" 2.5 ", 2.5}, {"1e3", 1000}, {"-3", -3}, {"0", 0}, {"1,000,000", 1e6}}) {
        double out = -1;
        CHECK_MESSAGE(parse_number(text, out), text);
        CHECK(out == v);
    }
    for (const std::string& text : std::vector<std::string>{"", " ", "12 KiB", "1..2", "1 2", "inf", "nan", "0x10", ",5", std::string(70, '1')}) {
        double out = 7;
        CHECK_MESSAGE(!parse_number(text, out), text);
        CHECK(out == 7);
    }
    CHECK(format_count(0) == "0");
    CHECK(format_count(999) == "999");
    CHECK(format_count(1000) == "1,000");
    CHECK(format_count(67108864) == "67,108,864");
    CHECK(format_count(17179869184ull) == "17,179,869,184");
    CHECK(format_count(~0ull) == "18,446,744,073,709,551,615");
}
