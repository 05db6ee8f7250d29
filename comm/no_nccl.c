// CPU-only builds: no NCCL.
#include "comm/comm.h"

int comm_nccl_version(void) {
    return 0;
}
