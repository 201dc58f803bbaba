// Ops: the kernels below the layers. `BLAS` is the one file that calls OpenBLAS (sgemm, the thread
// count) and LAPACKE (`symmetricEigen`); `parallelFor` and `parallelChunks` are dde-train's own
// threading over a workspace's thread count, with OpenBLAS kept single-threaded; `Elementwise`, `Reduce`
// (bounded-error sums) and `FastMath` (a vectorisable exp) are hand-vectorised SIMD8 loops;
// `Im2col`, `WinogradF2x3` and `WinogradF4x3` are the transforms `Conv2d` runs around its GEMMs.
// Builds on Profile only.

import CBLAS

/// The one file that talks to OpenBLAS. Everything else calls these wrappers.
public enum BLAS {
    /// Row-major single-precision GEMM: `C = alpha * op(A) * op(B) + beta * C`.
    ///
    /// - `op(A)` is `(m, k)`, `op(B)` is `(k, n)`, `C` is `(m, n)`; `lda`, `ldb`, `ldc` are the
    ///   row strides of A, B, C as stored (before the transpose).
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets OpenBLAS's thread count (a benchmark that times OpenBLAS's own threading sets it and
    /// puts it back to one).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
    }

    /// Makes OpenBLAS single-threaded, once per process (every `Workspace` asks for it): dde-train
    /// does its own threading, and OpenBLAS's spinning workers would fight ours for the cores.
    public static func useOneThread() { _ = oneThread }

    private static let oneThread: Void = openblas_set_num_threads(1)

    /// OpenBLAS's own description of its build and the kernel it chose (e.g. "Haswell").
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    public static var configString: String {
        guard let s = openblas_get_config() else { return "unknown" }
        return String(cString: s)
    }

    /// Eigen-decomposition of a symmetric `n x n` matrix (row-major, overwritten by the
    /// eigenvectors as columns) through LAPACKE's `dsyevd`. Returns the eigenvalues, ascending.
    public static func symmetricEigen(_ matrix: inout [Double], n: Int) throws -> [Double] {
        var values = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                                  Int32(n), &matrix, Int32(n), &values)
        if info != 0 {
            throw NumericError("LAPACKE_dsyevd failed with info \(info) for a \(n)x\(n) matrix")
        }
        return values
    }
}

/// A numerical routine failed; the message says which and why.
public struct NumericError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
