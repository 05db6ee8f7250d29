// Private to io/: the layout of an open HDF5 file and HDF5 error capture.
#pragma once

#include <hdf5.h>
#include <stdbool.h>

#include "io/h5.h"

struct h5file {
    hid_t id;
    hid_t bf16; // the custom bfloat16 float type
    char *path;
};

// The innermost message of HDF5's error stack (which it then clears), and
// whether a checksum filter reported the failure.
struct h5_trace {
    char last[256];
    bool checksum;
};
struct h5_trace h5_trace_get(void);
