// Random: seeded random numbers. `RandomStream` is xoshiro256**, its whole state four UInt64s that
// checkpoints save and restore; a stream is made from a seed and a purpose label, one per purpose
// (init, data order, noise, sampling), so a run stays reproducible when one purpose draws more or
// fewer numbers. dde-train never uses the standard library's default generator. Uses no other
// folder; layers, samplers and data sources take a stream `inout`.

import Foundation

/// An explicit, seeded random stream (xoshiro256**), whose whole state is four `UInt64`s
/// that go into checkpoints. dde-train never uses the standard library's default generator.
///
/// One stream per purpose (init, data order, noise/timesteps, sampling) keeps runs
/// reproducible when one purpose draws more or fewer numbers.
public struct RandomStream: RandomNumberGenerator, Sendable, Equatable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// A stream from a seed and a purpose label; different labels give unrelated streams.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var sm = seed ^ (stream &* 0x9E37_79B9_7F4A_7C15)
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(&sm), splitmix(&sm), splitmix(&sm), splitmix(&sm))
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4)
        self.state = (state[0], state[1], state[2], state[3])
    }

    public var stateArray: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: RandomStream, b: RandomStream) -> Bool { a.stateArray == b.stateArray }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inlinable
    public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    @inlinable
    public mutating func uniformDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in `0..<bound` (Lemire's method, unbiased).
    @inlinable
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(truncatingIfNeeded: next(upperBound: UInt64(bound)))
    }

    /// A standard normal sample (Box-Muller in Double, rounded to Float).
    @inlinable
    public mutating func normal() -> Float {
        let u1 = max(uniformDouble(), 1e-300)
        let u2 = uniformDouble()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Fills `count` floats with standard normal samples times `scale`.
    @inlinable
    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, scale: Float = 1) {
        for i in 0..<count { p[i] = normal() * scale }
    }

    /// Fills `count` floats uniformly in `[lo, hi)`.
    @inlinable
    public mutating func fillUniform(_ p: UnsafeMutablePointer<Float>, count: Int, lo: Float, hi: Float) {
        for i in 0..<count { p[i] = lo + (hi - lo) * uniform() }
    }
}
