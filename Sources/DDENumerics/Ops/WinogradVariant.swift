/// A Winograd algorithm F(m x m, 3x3) for the 3x3, stride-1, padding-1 convolution: the tile
/// transforms `Conv2d+Winograd.swift` runs around its (m + 2)^2 GEMMs. See `WinogradF2x3`
/// (m = 2, 16 GEMMs) and `WinogradF4x3` (m = 4, 36) for the layouts. `SendableMetatype`: the
/// convolutions hand the variant's type to their threads' closures.
public protocol WinogradVariant: SendableMetatype {
    /// m: output tiles are m x m.
    static var outputTile: Int { get }
    /// (m + 2)^2: the points of a transformed tile, one GEMM each.
    static var points: Int { get }
    /// Whether planes of this size split into whole tiles.
    static func applies(height: Int, width: Int) -> Bool
    static func tiles(height: Int, width: Int) -> Int
    /// Per-thread scratch floats of the plane transforms for `planes` planes at a time.
    static func scratchFloats(height: Int, width: Int, planes: Int) -> Int

    static func transformWeights(_ w: UnsafePointer<Float>, _ u: UnsafeMutablePointer<Float>, filters: Int, threads: Int)
    static func addWeightGradient(_ du: UnsafePointer<Float>, _ dw: UnsafeMutablePointer<Float>, filters: Int, threads: Int)
    static func transformInput(_ x: UnsafePointer<Float>, planes: Int, planeStride: Int, height: Int, width: Int,
                               _ v: UnsafeMutablePointer<Float>, xiStride: Int, scratch: UnsafeMutablePointer<Float>)
    static func addInputGradient(_ dv: UnsafePointer<Float>, xiStride: Int, _ dx: UnsafeMutablePointer<Float>,
                                 planes: Int, planeStride: Int, height: Int, width: Int, scratch: UnsafeMutablePointer<Float>)
    static func transformOutput(_ m: UnsafePointer<Float>, xiStride: Int, bias: Float, _ out: UnsafeMutablePointer<Float>,
                                planes: Int, planeStride: Int, height: Int, width: Int, scratch: UnsafeMutablePointer<Float>)
    static func transformOutputGradient(_ dy: UnsafePointer<Float>, planes: Int, planeStride: Int, height: Int, width: Int,
                                        _ dm: UnsafeMutablePointer<Float>, xiStride: Int, scratch: UnsafeMutablePointer<Float>) -> Float
}

extension WinogradVariant {
    /// Runs `body(q, 8)` for the groups of eight filters q..<q+8 (split over the threads), then
    /// `body(q, 1)` for the filters left: the weight transforms' lanes are filters.
    static func forFilters(_ filters: Int, threads: Int, _ body: @Sendable (Int, Int) -> Void) {
        let groups = filters / 8
        parallelChunks(groups, threads: threads, minimumPerThread: 64) { range in
            for group in range { body(group * 8, 8) }
        }
        for q in (groups * 8)..<filters { body(q, 1) }
    }
}
