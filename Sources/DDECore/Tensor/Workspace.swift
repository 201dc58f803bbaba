/// Scratch memory shared by the layers of one model: the column matrix and GEMM output of
/// whichever convolution runs now. Layers run one at a time, so one set of grow-only buffers
/// serves them all, and after the first step nothing is allocated.
public final class Workspace: @unchecked Sendable {
    public let col = FloatBuffer(count: 0)
    public let gemm = FloatBuffer(count: 0)
    /// Gradient scratch for composite blocks' backward passes (a block uses them only inside
    /// its own `backward`, so every block of a model can share them).
    public let scratch = (0..<3).map { _ in FloatBuffer(count: 0) }
    /// Upper bound on the column matrix, in floats; convolutions process as many images at a
    /// time as fit (at least one). 4M floats = 16 MiB keeps the matrix near the L3 cache while
    /// giving the GEMM thousands of columns at 16x16.
    public var columnBudget: Int

    public init(columnBudget: Int = 1 << 22) {
        self.columnBudget = columnBudget
    }
}
