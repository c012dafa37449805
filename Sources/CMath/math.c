// Header-only target (ticker_math.h); SwiftPM wants one source file.
#include "ticker_math.h"
