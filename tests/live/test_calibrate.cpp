// test_calibrate.cpp: (being written)
#include <doctest/doctest.h>
