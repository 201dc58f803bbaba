import Foundation

/// `dde-train sample`: `sample.prompts`, `n`, `trace`.
public struct SampleSettings: Sendable, Equatable {
    /// Empty: the prompts file's captions, else 8 validation prompts.
    public var prompts: [String]
    /// Images per prompt.
    public var n: Int
    /// A safetensors file for the sampling trace, or "".
    public var trace: String

    init(_ config: Config) {
        prompts = config.string("sample.prompts").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        n = config.int("n")
        trace = config.string("trace")
    }
}
