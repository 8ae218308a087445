// Force-included into the Verilator runtime and every model (VL_PRINTF=vb_printf): all
// output of $display/$fatal goes through vb.cpp, which still prints it and also keeps the
// last lines, so a $fatal's message can be part of the error the test reports.
#pragma once
#include <cstdarg>
extern "C" int vb_printf(const char* fmt, ...);
extern "C" int vb_vprintf(const char* fmt, va_list ap);
