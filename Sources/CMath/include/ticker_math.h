// The two libm functions the price model needs (natural log and exp), so the
// pure PriceFeed module imports neither Foundation nor Glibc. Pure functions:
// no syscalls, no state.
#ifndef TICKER_MATH_H
#define TICKER_MATH_H
#include <math.h>

static inline double ticker_log(double x) { return log(x); }
static inline double ticker_exp(double x) { return exp(x); }

#endif
