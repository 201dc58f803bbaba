// The one C surface dde-train uses: OpenBLAS's CBLAS (sgemm and friends) and LAPACKE
// (the symmetric eigensolver behind the Frechet distance). Debian: libopenblas-dev, liblapacke-dev.
#include <cblas.h>
#include <lapacke.h>
