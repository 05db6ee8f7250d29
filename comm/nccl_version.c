// The NCCL library this build links (CUDA builds only).
#include <nccl.h>

#include "comm/comm.h"

int comm_nccl_version(void) {
    int v = 0;
    return ncclGetVersion(&v) == ncclSuccess ? v : 0;
}
