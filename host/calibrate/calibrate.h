// calibrate.h: `cowlab calibrate`: measure the cost model's constants on this machine
// (host/calibrate/, the library host-calibrate).
//
//   cowlab calibrate [--json] [--quick]
//
// Forks processes of several sizes, VMA counts and page-table counts, times
// COW and zero-fill faults, memcpy/memset bandwidth, munmap, exit, vfork,
// posix_spawn and exec with real syscalls, fits the linear fork model of
// engine/kernel/cost.h by least squares, and prints each constant beside the
// engine's default, with the spread over repetitions. The fitting helpers
// below are pure functions, tested with synthetic data.
#pragma once

#include <string>
#include <vector>

#include "engine.h"

namespace cowlab::live {

// Runs the command with its arguments (after "calibrate"); returns the exit status.
int calibrate_main(const std::vector<std::string>& args);

// y = intercept + slope * x, fitted by least squares over n points.
struct LineFit {
    double slope = 0, intercept = 0;
    double r2 = 0;     // coefficient of determination (1 when every point lies on the line)
    size_t n = 0;
};

// An error (not an abort) when the sizes differ, there are fewer than two
// points, a value is not finite, or every x is the same.
cow::Result<LineFit> fit_line(const std::vector<double>& x, const std::vector<double>& y);

// min, median and max of repeated measurements; an error when empty or not finite.
struct Spread {
    double min = 0, median = 0, max = 0;
};
cow::Result<Spread> spread_of(std::vector<double> v);

// The fork model charges ptes * per_pte + pt_pages * per_pt_page. Two series
// separate them: dense memory (512 PTEs per page-table page) gives a slope per
// PTE of per_pte + per_pt_page / 512; one page per 2 MiB (one PTE per table)
// gives a slope per table of per_pt_page + per_pte.
struct PteCosts {
    double per_pte_ns = 0, per_pt_page_ns = 0;
};
cow::Result<PteCosts> split_pte_costs(double dense_ns_per_pte, double sparse_ns_per_table);

}  // namespace cowlab::live
