// test_calibrate.cpp: the fitting behind `cowlab calibrate`, on synthetic
// data whose answer is known.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "calibrate.h"

using namespace cowlab::live;

TEST_CASE("a line through exact points is recovered: slope, intercept, r^2 = 1") {
    // A fork model: 45,000 ns + 1.9 ns per page, over sizes from 16 MiB to 1 GiB.
    std::vector<double> x = {4096, 8192, 16384, 65536, 262144}, y;
    for (double v : x) y.push_back(45'000 + 1.9 * v);
    cow::Result<LineFit> f = fit_line(x, y);
    REQUIRE_MESSAGE(f.ok(), f.message());
    CHECK(f->slope == doctest::Approx(1.9).epsilon(1e-12));
    CHECK(f->intercept == doctest::Approx(45'000).epsilon(1e-12));
    CHECK(f->r2 == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(f->n == 5);
}

TEST_CASE("noise that is balanced around the line leaves the fit on the line, with r^2 below 1") {
    // y = 1 + 2x, with residuals +1, -1, -1, +1: uncorrelated with x, so the
    // least-squares line is still 1 + 2x. The squared residuals sum to 4 and
    // y varies by 24 around its mean of 4, so r^2 = 1 - 4/24.
    cow::Result<LineFit> f = fit_line({0, 1, 2, 3}, {2, 2, 4, 8});
    REQUIRE_MESSAGE(f.ok(), f.message());
    CHECK(f->slope == doctest::Approx(2.0));
    CHECK(f->intercept == doctest::Approx(1.0));
    CHECK(f->r2 == doctest::Approx(5.0 / 6.0));
}

TEST_CASE("a negative slope and a huge offset are recovered") {
    std::vector<double> x = {1e6, 1e6 + 1, 1e6 + 2, 1e6 + 5}, y;
    for (double v : x) y.push_back(7 - 0.25 * (v - 1e6));
    cow::Result<LineFit> f = fit_line(x, y);
    REQUIRE_MESSAGE(f.ok(), f.message());
    CHECK(f->slope == doctest::Approx(-0.25).epsilon(1e-9));
    CHECK(f->intercept == doctest::Approx(7 + 0.25 * 1e6).epsilon(1e-9));
}

TEST_CASE("degenerate inputs to the fit are refused with a message") {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    struct Case {
        std::vector<double> x, y;
        const char* says;
    };
    const Case cases[] = {
        {{}, {}, "at least 2 points"},
        {{3}, {5}, "at least 2 points"},
        {{1, 2, 3}, {1, 2}, "3 x values but 2 y values"},
        {{4, 4, 4}, {1, 2, 3}, "every x is the same"},
        {{1, 2, nan}, {1, 2, 3}, "point 2 is not a finite number"},
        {{1, 2, 3}, {1, inf, 3}, "point 1 is not a finite number"},
    };
    for (const Case& c : cases) {
        cow::Result<LineFit> f = fit_line(c.x, c.y);
        CHECK_FALSE(f.ok());
        CHECK(f.code() == cow::Errc::invalid_argument);
        CHECK_MESSAGE(f.message().find(c.says) != std::string::npos, f.message());
    }
}

TEST_CASE("the spread of repetitions is min, median and max; even counts average the middle two") {
    cow::Result<Spread> odd = spread_of({9, 1, 5, 3, 7});
    REQUIRE(odd.ok());
    CHECK(odd->min == 1);
    CHECK(odd->median == 5);
    CHECK(odd->max == 9);
    cow::Result<Spread> even = spread_of({4, 10, 1, 2});
    REQUIRE(even.ok());
    CHECK(even->median == 3);
    CHECK_FALSE(spread_of({}).ok());
    CHECK(spread_of({}).message().find("no measurements") != std::string::npos);
    CHECK_FALSE(spread_of({1, std::numeric_limits<double>::quiet_NaN()}).ok());
}

TEST_CASE("dense and sparse fork slopes separate the cost of a PTE from that of a page-table page") {
    // A machine where a PTE costs 1.5 ns and a table 200 ns: a dense fork pays
    // 1.5 + 200/512 per PTE, a sparse one (one PTE per table) 200 + 1.5 per table.
    cow::Result<PteCosts> c = split_pte_costs(1.5 + 200.0 / 512, 201.5);
    REQUIRE_MESSAGE(c.ok(), c.message());
    CHECK(c->per_pte_ns == doctest::Approx(1.5).epsilon(1e-12));
    CHECK(c->per_pt_page_ns == doctest::Approx(200).epsilon(1e-12));

    // Slopes that no pair of non-negative costs can explain are refused.
    cow::Result<PteCosts> bad = split_pte_costs(0.1, 500);
    CHECK_FALSE(bad.ok());
    CHECK(bad.message().find("negative") != std::string::npos);
    CHECK_FALSE(split_pte_costs(std::numeric_limits<double>::quiet_NaN(), 1).ok());
}
