/// A reverse-process sampler: the network steps to visit and how to move x from one to the next.
public protocol DenoisingScheduler: Sendable {
    /// Network steps k (t - 1), noisiest first.
    var timesteps: [Int] { get }
    /// Whether `step` uses fresh standard-normal noise.
    var usesNoise: Bool { get }
    /// One step in place from network step k, given the epsilon prediction.
    func step(_ x: UnsafeMutablePointer<Float>, eps: UnsafePointer<Float>, k: Int,
              noise: UnsafePointer<Float>?, count: Int)
}

extension DDIMScheduler: DenoisingScheduler {
    public var usesNoise: Bool { eta > 0 }
}

extension DDPMScheduler: DenoisingScheduler {
    public var usesNoise: Bool { true }
}
