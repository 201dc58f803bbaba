import Foundation

/// `dde-train sample`: `prompts`, `n`, `trace`.
public struct SampleSettings: Sendable, Equatable {
    /// Empty: the validation prompts.
    public var prompts: [String]
    /// Images per prompt.
    public var n: Int
    /// A safetensors file for the sampling trace, or "".
    public var trace: String

    init(_ config: Config) {
        prompts = config.string("prompts").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        n = config.int("n")
        trace = config.string("trace")
    }
}
